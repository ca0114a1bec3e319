/**
 * RuntimeClient transports and connection handling: UNIX socket, TCP and SSH (a real sshd) to a real
 * HAProxy, timeouts, reconnects and pipelining (a recording stand-in where HAProxy cannot show it).
 */
import assert from "node:assert/strict";
import { RuntimeClient } from "../../../src/haproxy/runtime/client";
import { RuntimeConnectionError } from "../../../src/haproxy/runtime/transport";
import { startFakeRuntimeApi, type FakeRuntimeApi } from "../../support/fakeRuntimeApi";
import { startHaproxy, type RunningHaproxy } from "../../../lab/haproxy";
import { freePort } from "../../../lab/ports";
import { startSshd, type TestSshd } from "../../support/sshd";

/** Asserts a RuntimeConnectionError whose message starts with the endpoint and matches `reason`. */
async function rejectsConnection(promise: Promise<unknown>, endpoint: string, reason: RegExp, secrets: string[] = []) {
    await assert.rejects(promise, (err: unknown) => {
        assert.ok(err instanceof RuntimeConnectionError, `expected RuntimeConnectionError, got ${err}`);
        assert.equal(err.endpoint, endpoint);
        assert.ok(err.message.startsWith(`${endpoint}: `), err.message);
        assert.match(err.message, reason);
        for (const secret of secrets) assert.ok(!err.message.includes(secret), "the message leaks a secret");
        return true;
    });
}

/** Adds, reads and deletes a server through `client`, then closes it. */
async function roundTrip(client: RuntimeClient, server: string) {
    try {
        await client.addServer("app", server, { address: "127.0.0.1", port: 8080 });
        assert.equal((await client.getServer("app", server))?.status, "MAINT");
        await client.delServer("app", server);
        assert.equal(await client.getServer("app", server), undefined);
    } finally {
        await client.close();
    }
}

describe("RuntimeClient connections", () => {
    let lb: RunningHaproxy;
    let sshd: TestSshd;
    const fakes: FakeRuntimeApi[] = [];

    before(async () => {
        [lb, sshd] = await Promise.all([startHaproxy(), startSshd()]);
    });

    after(async () => {
        await Promise.all([lb?.stop(), sshd?.stop()]);
    });

    afterEach(async () => {
        await Promise.all(fakes.splice(0).map((f) => f.stop()));
    });

    async function fake(answer?: (line: string) => string | undefined): Promise<FakeRuntimeApi> {
        const f = await startFakeRuntimeApi(answer);
        fakes.push(f);
        return f;
    }

    describe("transports to a real HAProxy", () => {
        it("unix socket", async () => {
            await roundTrip(new RuntimeClient(lb.unixAdmin), "via-unix");
        });

        it("tcp socket", async () => {
            await roundTrip(new RuntimeClient(lb.tcpAdmin), "via-tcp");
        });

        it("ssh with an unencrypted key and a verified host key", async () => {
            const ssh = { privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 };
            await roundTrip(new RuntimeClient(sshd.url(lb.adminSocket), { ssh }), "via-ssh");
        });

        it("ssh with a passphrase-protected key", async () => {
            const ssh = { privateKey: sshd.encryptedPrivateKey, passphrase: sshd.passphrase, hostKeySha256: sshd.hostKeySha256 };
            await roundTrip(new RuntimeClient(sshd.url(lb.adminSocket), { ssh }), "via-ssh-encrypted");
        });
    });

    describe("ssh failures", () => {
        it("rejects a wrong host key fingerprint, naming both fingerprints", async () => {
            const wrong = `SHA256:${"A".repeat(43)}`;
            const url = sshd.url(lb.adminSocket);
            const client = new RuntimeClient(url, { ssh: { privateKey: sshd.privateKey, hostKeySha256: wrong } });
            await rejectsConnection(
                client.showStat(),
                url,
                new RegExp(`host key ${sshd.hostKeySha256.replace(/[+/]/g, "\\$&")} does not match hostKeySha256 ${wrong}`),
                [sshd.privateKey],
            );
        });

        it("reports a wrong or missing passphrase without revealing secrets", async () => {
            const url = sshd.url(lb.adminSocket);
            const wrong = "not-the-passphrase-4242";
            const bad = new RuntimeClient(url, { ssh: { privateKey: sshd.encryptedPrivateKey, passphrase: wrong, hostKeySha256: sshd.hostKeySha256 } });
            await rejectsConnection(bad.showStat(), url, /SSH: /, [wrong, sshd.passphrase, sshd.encryptedPrivateKey]);
            const none = new RuntimeClient(url, { ssh: { privateKey: sshd.encryptedPrivateKey, hostKeySha256: sshd.hostKeySha256 } });
            await rejectsConnection(none.showStat(), url, /SSH: .*passphrase/, [sshd.passphrase, sshd.encryptedPrivateKey]);
        });

        it("reports a key the server does not accept", async () => {
            const url = sshd.url(lb.adminSocket).replace(`//${sshd.username}@`, "//nobody@");
            const client = new RuntimeClient(url, { ssh: { privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 } });
            await rejectsConnection(client.showStat(), url, /SSH: All configured authentication methods failed/, [sshd.privateKey]);
        });

        it("reports a socket path that does not exist on the SSH host", async () => {
            const url = sshd.url(`${lb.dir}/missing.sock`);
            const client = new RuntimeClient(url, { ssh: { privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 } });
            await rejectsConnection(client.showStat(), url, new RegExp(`cannot open ${lb.dir}/missing.sock on the SSH host`));
        });

        it("requires credentials", async () => {
            const url = sshd.url(lb.adminSocket);
            await rejectsConnection(new RuntimeClient(url).showStat(), url, /SSH credentials \(ssh\.privateKey\) are required/);
        });
    });

    describe("unreachable endpoints and timeouts", () => {
        it("a TCP port with nothing listening fails fast with connection refused", async () => {
            const url = `tcp://127.0.0.1:${await freePort()}`;
            const started = Date.now();
            await rejectsConnection(new RuntimeClient(url).showStat(), url, /cannot connect: .*ECONNREFUSED/);
            assert.ok(Date.now() - started < 1000);
        });

        it("a UNIX socket path that does not exist", async () => {
            const url = `unix://${lb.dir}/missing.sock`;
            await rejectsConnection(new RuntimeClient(url).showStat(), url, /cannot connect: .*ENOENT/);
        });

        it("connect timeout: an SSH peer that never answers", async () => {
            const silent = await fake(() => undefined);
            const url = `ssh://root@127.0.0.1:${silent.port}/run/haproxy/admin.sock`;
            const client = new RuntimeClient(url, { connectTimeoutMs: 300, ssh: { privateKey: sshd.privateKey } });
            const started = Date.now();
            await rejectsConnection(client.showStat(), url, /connect timed out after 300 ms/);
            assert.ok(Date.now() - started < 2000);
        });

        it("I/O timeout: a peer that stops answering fails the command and closes the connection", async () => {
            const peer = await fake((line) => (line === "hang" ? undefined : ""));
            const client = new RuntimeClient(peer.url, { ioTimeoutMs: 300 });
            const started = Date.now();
            await rejectsConnection(client.execute("hang"), peer.url, /I\/O timeout: no reply to "hang" within 300 ms/);
            assert.ok(Date.now() - started < 2000);
            assert.equal(await client.execute("show version"), "", "the next command works on a new connection");
            assert.equal(peer.connections, 2);
            await client.close();
        });
    });

    describe("one connection, pipelined", () => {
        it("sends 200 concurrent commands on one connection, in call order, after prompt", async () => {
            const peer = await fake((line) => `echo ${line}`);
            const client = new RuntimeClient(peer.url);
            const commands = Array.from({ length: 200 }, (_, i) => `show servers state b${i}`);
            const replies = await Promise.all(commands.map((c) => client.execute(c)));
            await client.close();
            assert.deepEqual(replies, commands.map((c) => `echo ${c}`));
            assert.equal(peer.connections, 1);
            assert.equal(peer.received, ["prompt", "show info", ...commands, ""].join("\n"));
        });

        it("close() waits for queued commands; a later command opens a new connection", async () => {
            const peer = await fake();
            const client = new RuntimeClient(peer.url);
            const pending = Array.from({ length: 50 }, () => client.execute("show version"));
            await client.close();
            assert.deepEqual(await Promise.all(pending), pending.map(() => ""));
            await client.execute("show version");
            await client.close();
            assert.equal(peer.connections, 2);
        });

        it("closes an idle connection itself and reconnects for the next command", async () => {
            const peer = await fake();
            const client = new RuntimeClient(peer.url, { idleTimeoutMs: 100 });
            await client.execute("show version");
            await new Promise((r) => setTimeout(r, 300));
            await client.execute("show version");
            await client.close();
            assert.equal(peer.connections, 2);
        });

        it("a dropped connection fails the unanswered command; the next one reconnects", async () => {
            const peer = await fake((line) => (line === "hang" ? undefined : ""));
            const client = new RuntimeClient(peer.url);
            const hanging = client.execute("hang");
            await new Promise((r) => setTimeout(r, 100));
            peer.dropConnections();
            await rejectsConnection(hanging, peer.url, /connection closed before the reply to "hang"/);
            assert.equal(await client.execute("show version"), "");
            await client.close();
            assert.equal(peer.connections, 2);
        });

        it("reconnects transparently after HAProxy closed an idle connection (stats timeout)", async () => {
            const short = await startHaproxy({ statsTimeoutMs: 200 });
            const client = new RuntimeClient(short.unixAdmin, { idleTimeoutMs: 10_000 });
            try {
                await client.addServer("app", "a", { address: "127.0.0.1", port: 1 });
                await new Promise((r) => setTimeout(r, 600));
                assert.equal((await client.getServer("app", "a"))?.status, "MAINT");
            } finally {
                await client.close();
                await short.stop();
            }
        });

        it("after a reload the open connection still reaches the old process; currentProcess() follows the new one, which lost servers added at run time", async () => {
            const client = new RuntimeClient(lb.unixAdmin);
            try {
                const before = await client.currentProcess();
                await client.addServer("app", "runtime-only", { address: "127.0.0.1", port: 1 });
                await lb.reload("master");
                assert.ok(await client.getServer("app", "runtime-only"), "the connection opened before the reload talks to the old process");
                await assert.rejects(client.setState("app", "runtime-only", "drain"), /proxy-disabled.*Proxy is disabled/, "which refuses writes");
                const after = await client.currentProcess();
                assert.equal(after.pid, lb.pid);
                assert.notEqual(after.pid, before.pid);
                assert.equal(await client.getServer("app", "runtime-only"), undefined, "the new process has only what its files define");
                assert.deepEqual(client.previousProcesses().map((p) => p.process.pid), [before.pid], "the old process stays readable");
            } finally {
                await client.close();
            }
        });
    });
});
