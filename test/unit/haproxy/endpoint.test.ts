import assert from "node:assert/strict";
import { describeEndpoint, parseEndpoint, redactPassword } from "../../../src/haproxy/runtime/endpoint";
import { RuntimeInputError } from "../../../src/haproxy/runtime/validate";

describe("haproxy endpoint", () => {
    it("parses unix, tcp and ssh URLs", async () => {
        assert.deepEqual(parseEndpoint("unix:///run/haproxy/admin.sock"), { kind: "unix", path: "/run/haproxy/admin.sock" });
        assert.deepEqual(parseEndpoint("tcp://127.0.0.1:9999"), { kind: "tcp", host: "127.0.0.1", port: 9999 });
        assert.deepEqual(parseEndpoint("tcp://lb-1.internal:9999"), { kind: "tcp", host: "lb-1.internal", port: 9999 });
        assert.deepEqual(parseEndpoint("tcp://[::1]:9999"), { kind: "tcp", host: "::1", port: 9999 });
        assert.deepEqual(parseEndpoint("ssh://admin@10.0.0.5:2222/run/haproxy/admin.sock"), {
            kind: "ssh",
            username: "admin",
            host: "10.0.0.5",
            port: 2222,
            socketPath: "/run/haproxy/admin.sock",
        });
        assert.deepEqual(parseEndpoint("ssh://ubuntu@[2001:db8::5]/var/run/haproxy.sock"), {
            kind: "ssh",
            username: "ubuntu",
            host: "2001:db8::5",
            port: 22,
            socketPath: "/var/run/haproxy.sock",
        });
    });

    it("rejects other forms, naming the field and listing the allowed forms", async () => {
        for (const bad of [
            "",
            "/run/haproxy/admin.sock",
            "http://127.0.0.1:80",
            "unix://run/admin.sock",
            "unix:/run/admin.sock",
            "tcp://127.0.0.1",
            "ssh://10.0.0.5/run/admin.sock",
            "ssh://admin@10.0.0.5",
        ]) {
            assert.throws(
                () => parseEndpoint(bad, "loadBalancers[2].endpoint"),
                (err: unknown) =>
                    err instanceof RuntimeInputError &&
                    err.field === "loadBalancers[2].endpoint" &&
                    err.message.includes(JSON.stringify(bad)) &&
                    err.message.includes("unix:///path/admin.sock, tcp://host:port or ssh://user@host[:port]/path/admin.sock"),
                bad,
            );
        }
    });

    it("rejects bad ports, hosts, users and socket paths with the part that is wrong", async () => {
        const cases: [string, RegExp][] = [
            ["tcp://127.0.0.1:0", /^endpoint port: 0 is not allowed/],
            ["tcp://127.0.0.1:65536", /^endpoint port: 65536 /],
            ["tcp://127.0.0.1:http", /^endpoint port: "http" /],
            ["tcp://bad_host!:80", /^endpoint host: "bad_host!" /],
            ["tcp://[nothost]:80", /^endpoint host: "\[nothost\]" /],
            ["ssh://ad min@h/run/a.sock", /^endpoint user: "ad min" /],
            ["ssh://root@h:22/run/a b.sock", /^endpoint socket path: "\/run\/a b.sock" /],
            ["unix:///run/admin.sock;rm", /^endpoint socket path: /],
            ["unix:///run/haproxy/", /^endpoint socket path: /],
            [`unix:///${"d".repeat(110)}`, /^endpoint socket path: .*at most 107/],
        ];
        for (const [url, message] of cases) {
            assert.throws(() => parseEndpoint(url), { name: "RuntimeInputError", message }, url);
        }
    });

    it("refuses a password in an ssh URL without echoing it", async () => {
        assert.throws(
            () => parseEndpoint("ssh://admin:hunter2@10.0.0.5/run/admin.sock"),
            (err: Error) =>
                !err.message.includes("hunter2") &&
                err.message.includes("admin:***@") &&
                /no password in the URL/.test(err.message),
        );
        assert.throws(() => parseEndpoint("tcp://u:hunter2@10.0.0.5:1"), (err: Error) => !err.message.includes("hunter2"));
    });

    it("redactPassword only touches the password", async () => {
        assert.equal(redactPassword("ssh://a:b@h/p"), "ssh://a:***@h/p");
        assert.equal(redactPassword("ssh://a@h:22/p"), "ssh://a@h:22/p");
    });

    it("describes endpoints as URLs that parse back to the same endpoint", async () => {
        for (const url of [
            "unix:///run/haproxy/admin.sock",
            "tcp://127.0.0.1:9999",
            "tcp://[::1]:9999",
            "ssh://admin@10.0.0.5:2222/run/haproxy/admin.sock",
            "ssh://admin@[::1]:22/run/haproxy/admin.sock",
        ]) {
            assert.equal(describeEndpoint(parseEndpoint(url)), url);
        }
        assert.equal(describeEndpoint(parseEndpoint("ssh://u@h/s.sock")), "ssh://u@h:22/s.sock");
    });
});
