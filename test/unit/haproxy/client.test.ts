import assert from "node:assert/strict";
import { checkCommand, classifyReply, formatAddress, RuntimeClient, RuntimeCommandError } from "../../../src/haproxy/runtime/client";
import { RuntimeInputError } from "../../../src/haproxy/runtime/validate";

describe("haproxy client (pure parts)", () => {
    describe("checkCommand", () => {
        it("lets ordinary commands through", async () => {
            for (const c of ["show stat", "add server app/web1 [::1]:8080 weight 10 check inter 500", "set server app/a state ready"]) {
                assert.equal(checkCommand(c), c);
            }
        });

        it("refuses separators, comments, escapes, control characters, payloads and empty commands", async () => {
            for (const bad of [
                "show stat; show info",
                "show stat\nshow info",
                "show stat\r",
                "show stat # comment",
                "set server app/a\\;b state ready",
                "show\0stat",
                "show\tstat",
                "add map #1 <<",
                "set ssl cert x <<",
                "",
            ]) {
                assert.throws(
                    () => checkCommand(bad),
                    (err: unknown) => err instanceof RuntimeInputError && err.field === "command",
                    JSON.stringify(bad),
                );
            }
        });
    });

    it("classifyReply maps the error texts of HAProxy 2.6.12 to codes", async () => {
        assert.equal(classifyReply("No such server.\n"), "no-such-server");
        assert.equal(classifyReply("No such server."), "no-such-server");
        assert.equal(classifyReply("No such backend.\n"), "no-such-backend");
        assert.equal(classifyReply("No such proxy.\n"), "no-such-backend");
        assert.equal(classifyReply("Can't find backend.\n"), "no-such-backend");
        assert.equal(classifyReply("Server still has connections attached to it, cannot remove it."), "still-has-connections");
        assert.equal(classifyReply("Already exists a server with the same name in backend.\n"), "already-exists");
        assert.equal(classifyReply("Only servers in maintenance mode can be deleted."), "not-in-maintenance");
        assert.equal(classifyReply("Permission denied\n"), "unexpected-reply");
        assert.equal(classifyReply("No such server. Or maybe"), "unexpected-reply");
    });

    it("formatAddress brackets IPv6 addresses only", async () => {
        assert.equal(formatAddress("10.0.0.1", 80), "10.0.0.1:80");
        assert.equal(formatAddress("app.internal", 8080), "app.internal:8080");
        assert.equal(formatAddress("::1", 8080), "[::1]:8080");
    });

    it("RuntimeCommandError quotes the endpoint, the command and HAProxy's reply", async () => {
        const err = new RuntimeCommandError("no-such-server", "del server app/x", "tcp://127.0.0.1:9999", "No such server.\n");
        assert.equal(err.message, 'tcp://127.0.0.1:9999: "del server app/x" failed (no-such-server): HAProxy replied "No such server."');
        assert.equal(err.code, "no-such-server");
        assert.equal(err.reply, "No such server.\n");
        const long = new RuntimeCommandError("unexpected-reply", "help", "unix:///a.sock", "z".repeat(1000));
        assert.ok(long.message.length < 400);
        assert.equal(long.reply.length, 1000);
    });

    it("the constructor rejects bad endpoints and options before connecting", async () => {
        const url = "tcp://127.0.0.1:9999";
        const cases: [() => unknown, string][] = [
            [() => new RuntimeClient("http://127.0.0.1:9999"), "endpoint"],
            [() => new RuntimeClient(url, { connectTimeoutMs: 0 }), "connectTimeoutMs"],
            [() => new RuntimeClient(url, { ioTimeoutMs: 600_001 }), "ioTimeoutMs"],
            [() => new RuntimeClient(url, { idleTimeoutMs: 1.5 }), "idleTimeoutMs"],
            [() => new RuntimeClient(url, { ssh: { privateKey: "k", hostKeySha256: "MD5:aa:bb" } }), "ssh.hostKeySha256"],
        ];
        for (const [construct, field] of cases) {
            assert.throws(construct, (err: unknown) => err instanceof RuntimeInputError && err.field === field, field);
        }
    });
});
