/**
 * The parser of Prometheus's `/api/v1/query` replies, on replies captured from Debian's Prometheus 2.42
 * (test/fixtures/prometheus: `process.json` and `servers.json` the queries of prometheusSource for a real
 * HAProxy 2.6 exporter, `no-series.json` a query for an instance Prometheus does not scrape,
 * `bad-query.json` the 400 reply to a query missing its closing brace).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { instantQuery, parseQueryReply, PrometheusQueryError } from "../../../src/haproxy/rollout/prometheusApi";

const fixture = (name: string) => readFileSync(join(__dirname, "../../fixtures/prometheus", name), "utf8");

describe("parseQueryReply", () => {
    it("gives the samples of an instant vector, labels and value", () => {
        assert.deepEqual(parseQueryReply("q", 200, fixture("process.json")), [
            { labels: { __name__: "haproxy_process_start_time_seconds", instance: "127.0.0.1:40303", job: "haproxy" }, value: 1796317390 },
        ]);
        const servers = parseQueryReply("q", 200, fixture("servers.json"));
        assert.equal(servers.length, 22);
        assert.deepEqual(servers.find((s) => s.labels.server === "web2" && s.labels.code === "5xx")?.value, 3);
        assert.equal(servers.find((s) => s.labels.__name__ === "haproxy_server_response_time_average_seconds")?.value, 0.001);
        assert.deepEqual(parseQueryReply("q", 200, fixture("no-series.json")), []);
    });

    it("reads NaN and the infinities as Prometheus writes them", () => {
        const reply = (value: string) =>
            JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1, value] }] } });
        assert.ok(Number.isNaN(parseQueryReply("q", 200, reply("NaN"))[0].value));
        assert.equal(parseQueryReply("q", 200, reply("+Inf"))[0].value, Infinity);
        assert.equal(parseQueryReply("q", 200, reply("-Inf"))[0].value, -Infinity);
        assert.equal(parseQueryReply("q", 200, reply("1.5e3"))[0].value, 1500);
        for (const bad of ["", " 1", "0x10", "Infinity", "1,5"]) {
            assert.throws(() => parseQueryReply("q", 200, reply(bad)), new PrometheusQueryError(`q: result[0]: value ${JSON.stringify(bad)} is not a number`));
        }
    });

    it("quotes Prometheus's error, with the HTTP status", () => {
        assert.throws(
            () => parseQueryReply("Prometheus at http://p:9090: query x", 400, fixture("bad-query.json")),
            new PrometheusQueryError('Prometheus at http://p:9090: query x: HTTP 400, bad_data: invalid parameter "query": 1:48: parse error: unexpected end of input inside braces'),
        );
        assert.throws(() => parseQueryReply("q", 502, "<html>Bad Gateway</html>"), new PrometheusQueryError('q: HTTP 502, not JSON: "<html>Bad Gateway</html>"'));
        assert.throws(() => parseQueryReply("q", 503, fixture("no-series.json")), /^PrometheusQueryError: q: HTTP 503/);
    });

    it("rejects replies that are not a well-formed instant vector", () => {
        const matrix = JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } });
        assert.throws(() => parseQueryReply("q", 200, matrix), /q: expected an instant vector, got "matrix"/);
        const labels = JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: { a: 1 }, value: [1, "1"] }] } });
        assert.throws(() => parseQueryReply("q", 200, labels), /result\[0\]: "metric" is not an object of string labels/);
        const value = JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1, 1] }] } });
        assert.throws(() => parseQueryReply("q", 200, value), /result\[0\]: "value" is not \[time, "number"\]/);
    });
});

describe("instantQuery", () => {
    let server: Server | undefined;
    const asked: string[] = [];

    afterEach(async () => {
        server?.closeAllConnections();
        await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
        server = undefined;
    });

    /** A server that records each request's URL and answers with `reply` (never, when undefined). */
    async function serve(reply?: string): Promise<string> {
        server = createServer((req, res) => {
            asked.push(req.url ?? "");
            if (reply !== undefined) res.end(reply);
        });
        await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`;
    }

    it("sends the query and the evaluation time, keeping the URL's path prefix", async () => {
        const url = await serve(readFileSync(join(__dirname, "../../fixtures/prometheus/no-series.json"), "utf8"));
        assert.deepEqual(await instantQuery(url, 'up{job="a b"}', { at: 1796317396296, timeoutMs: 1000 }), []);
        assert.equal(asked.pop(), "/prefix/api/v1/query?query=up%7Bjob%3D%22a+b%22%7D&time=1796317396.296");
    });

    it("gives up after the timeout, naming the URL and the query", async () => {
        const url = await serve();
        await assert.rejects(instantQuery(url, "up", { at: 0, timeoutMs: 100 }), new Error(`Prometheus at ${url}: query up: no reply within 100 ms`));
    });
});
