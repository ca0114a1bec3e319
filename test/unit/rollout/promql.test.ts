/**
 * PromQL text from outside values: string literals and regex patterns that cannot change a query's shape.
 */
import assert from "node:assert/strict";
import { anyOf, promqlString, regexLiteral, selector } from "../../../src/haproxy/rollout/promql";

describe("promql", () => {
    it("quotes a string literal, escaping backslash, double quote and control characters", () => {
        assert.equal(promqlString("127.0.0.1:8405"), '"127.0.0.1:8405"');
        assert.equal(promqlString('a"} or vector(1) #'), '"a\\"} or vector(1) #"');
        assert.equal(promqlString("a\\b"), '"a\\\\b"');
        assert.equal(promqlString("a\nb\u0000\u007f"), '"a\\x0ab\\x00\\x7f"');
        assert.equal(promqlString("it's `x`"), '"it\'s `x`"');
    });

    it("escapes every RE2 metacharacter, as Go's regexp.QuoteMeta", () => {
        assert.equal(regexLiteral("web-1.example:8080"), "web-1\\.example:8080");
        assert.equal(regexLiteral("\\.+*?()|[]{}^$"), "\\\\\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$");
        assert.equal(anyOf(["web1", "web.2"]), "web1|web\\.2");
        assert.throws(() => anyOf([]), /at least one value/);
    });

    it("builds a selector, the regex then escaped once more as a string", () => {
        assert.equal(
            selector("haproxy_process_start_time_seconds", [
                { label: "instance", op: "=~", value: anyOf(["127.0.0.1:8405", 'x"|.*']) },
                { label: "job", op: "=", value: "haproxy" },
            ]),
            'haproxy_process_start_time_seconds{instance=~"127\\\\.0\\\\.0\\\\.1:8405|x\\"\\\\|\\\\.\\\\*",job="haproxy"}',
        );
        assert.equal(selector(undefined, [{ label: "__name__", op: "=~", value: "a|b" }]), '{__name__=~"a|b"}');
    });

    it("refuses metric and label names it would have to escape", () => {
        assert.throws(() => selector("up or vector(1)", []), /not a metric name: "up or vector\(1\)"/);
        assert.throws(() => selector("up", [{ label: 'job="x",a', op: "=", value: "" }]), /not a label name/);
    });
});
