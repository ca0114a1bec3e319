/**
 * SSH to load balancer hosts against real sshd instances (two, with different host keys) and a real
 * HAProxy: host key verification per host (fingerprint, known_hosts, refusal of unknown hosts), one
 * pooled SSH connection carrying many Runtime API channels and the SFTP sessions (counted by a TCP
 * proxy in front of sshd), idle close and reconnect, and the servers-file operations over SFTP.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { join } from "node:path";
import { describeEndpoint, parseEndpoint } from "../../../src/haproxy/runtime/endpoint";
import { HostFileError, hostFilesFor } from "../../../src/haproxy/runtime/hostFiles";
import { openConnection, RuntimeConnectionError, sshOptionsFor, type SshCredentials, type TransportOptions } from "../../../src/haproxy/runtime/transport";
import { startHaproxy, type RunningHaproxy } from "../../../lab/haproxy";
import { startSshd, type TestSshd } from "../../support/sshd";
import { waitFor } from "../../../lab/wait";

/** A TCP relay to sshd that counts the connections made through it (one per SSH handshake). */
interface CountingProxy {
    readonly port: number;
    /** Connections accepted since the start. */
    readonly accepted: number;
    /** Connections open now. */
    readonly open: number;
    /** Cuts every open connection, as a network failure would. */
    dropAll(): void;
    stop(): Promise<void>;
}

async function countingProxy(targetPort: number): Promise<CountingProxy> {
    const clients = new Set<net.Socket>();
    let accepted = 0;
    const server = net.createServer((client) => {
        accepted += 1;
        clients.add(client);
        const upstream = net.connect(targetPort, "127.0.0.1");
        const cut = () => {
            client.destroy();
            upstream.destroy();
        };
        // A relay error ends both sides; the SSH client under test reports it.
        client.on("error", cut).on("close", () => {
            clients.delete(client);
            upstream.destroy();
        });
        upstream.on("error", cut).on("close", () => client.destroy());
        client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        get accepted() {
            return accepted;
        },
        get open() {
            return clients.size;
        },
        dropAll: () => clients.forEach((c) => c.destroy()),
        stop: () => {
            clients.forEach((c) => c.destroy());
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}

/** Sends one Runtime API command on a new connection and returns HAProxy's reply (it closes after it). */
async function ask(url: string, options: TransportOptions, command = "show info"): Promise<string> {
    const connection = await openConnection(parseEndpoint(url), options);
    return new Promise((resolve, reject) => {
        let reply = "";
        connection.stream.setEncoding("utf8");
        connection.stream.on("data", (chunk: string) => (reply += chunk));
        connection.stream.once("error", reject);
        connection.stream.once("end", () => {
            connection.close();
            resolve(reply);
        });
        connection.stream.write(`${command}\n`);
    });
}

/** `ssh-keyscan` output for 127.0.0.1:`port` (`[127.0.0.1]:port keytype base64key` lines). */
function keyscan(port: number): string {
    return execFileSync("ssh-keyscan", ["-p", String(port), "-t", "ed25519", "127.0.0.1"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

/**
 * Asserts a RuntimeConnectionError for `url` that trying again cannot fix (`retryable` false), whose
 * message matches every pattern and leaks no secret.
 */
async function refused(promise: Promise<unknown>, url: string, patterns: RegExp[], secrets: string[]) {
    await assert.rejects(promise, (err: unknown) => {
        assert.ok(err instanceof RuntimeConnectionError, `expected RuntimeConnectionError, got ${err}`);
        assert.equal(err.endpoint, described(url));
        assert.equal(err.retryable, false, "a refusal is not retried");
        for (const pattern of patterns) assert.match(err.message, pattern);
        for (const secret of secrets) assert.ok(!err.message.includes(secret), `the message leaks a secret: ${err.message}`);
        return true;
    });
}

/** The URL as errors name it (the port always written). */
const described = (url: string) => describeEndpoint(parseEndpoint(url));

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

describe("SSH to load balancer hosts (real sshd)", () => {
    let lb: RunningHaproxy;
    let a: TestSshd;
    let b: TestSshd;
    const proxies: CountingProxy[] = [];

    before(async () => {
        [lb, a, b] = await Promise.all([startHaproxy(), startSshd(), startSshd()]);
        assert.notEqual(a.hostKeySha256, b.hostKeySha256, "two sshd with different host keys");
    });

    after(async () => {
        await Promise.all([lb?.stop(), a?.stop(), b?.stop()]);
    });

    afterEach(async () => {
        await Promise.all(proxies.splice(0).map((p) => p.stop()));
    });

    async function proxyTo(sshd: TestSshd): Promise<{ proxy: CountingProxy; url: string }> {
        const proxy = await countingProxy(sshd.port);
        proxies.push(proxy);
        return { proxy, url: `ssh://${sshd.username}@127.0.0.1:${proxy.port}${lb.adminSocket}` };
    }

    const secretsOf = (sshd: TestSshd) => [sshd.privateKey, sshd.encryptedPrivateKey, sshd.passphrase];

    describe("host keys", () => {
        it("verifies each host with its own fingerprint (sshOptionsFor), and refuses one host's fingerprint on the other", async () => {
            const shared: SshCredentials = { privateKey: a.privateKey };
            const lbA = { name: "lb-a", hostKeySha256: a.hostKeySha256 };
            const lbB = { name: "lb-b", hostKeySha256: b.hostKeySha256 };
            assert.match(await ask(a.url(lb.adminSocket), { ssh: sshOptionsFor(lbA, shared) }), /^Name: HAProxy/m);
            const bKey = { ...sshOptionsFor(lbB, shared), privateKey: b.privateKey };
            assert.match(await ask(b.url(lb.adminSocket), { ssh: bKey }), /^Name: HAProxy/m);
            await refused(
                ask(b.url(lb.adminSocket), { ssh: { ...sshOptionsFor(lbA, shared), privateKey: b.privateKey } }),
                b.url(lb.adminSocket),
                [new RegExp(`host key ${escape(b.hostKeySha256)} does not match hostKeySha256 ${escape(a.hostKeySha256)}`)],
                secretsOf(b),
            );
        });

        it("accepts a host listed in known_hosts (ssh-keyscan output), before a wrong global fingerprint", async () => {
            const knownHosts = keyscan(a.port);
            assert.match(knownHosts, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${a.port} ssh-ed25519 `, "m"));
            const ssh = { privateKey: a.encryptedPrivateKey, passphrase: a.passphrase, knownHosts, hostKeySha256: b.hostKeySha256 };
            assert.match(await ask(a.url(lb.adminSocket), { ssh }), /^Name: HAProxy/m);
        });

        it("refuses a host whose known_hosts entry holds another key", async () => {
            const knownHosts = keyscan(b.port).replace(`[127.0.0.1]:${b.port}`, `[127.0.0.1]:${a.port}`);
            const url = a.url(lb.adminSocket);
            await refused(
                ask(url, { ssh: { privateKey: a.privateKey, knownHosts } }),
                url,
                [new RegExp(`host key ${escape(a.hostKeySha256)} \\(ssh-ed25519\\) of \\[127\\.0\\.0\\.1\\]:${a.port} does not match its sshKnownHosts entries \\(${escape(b.hostKeySha256)}\\)`)],
                secretsOf(a),
            );
        });

        it("refuses an unknown host by default, naming the host, the presented fingerprint and the config keys", async () => {
            const url = a.url(lb.adminSocket);
            const knownHosts = keyscan(b.port);
            await refused(
                ask(url, { ssh: { privateKey: a.encryptedPrivateKey, passphrase: a.passphrase, knownHosts } }),
                url,
                [
                    new RegExp(`host key ${escape(a.hostKeySha256)} \\(ssh-ed25519\\) of \\[127\\.0\\.0\\.1\\]:${a.port} is unknown`),
                    /haproxy\.loadBalancers\[\]\.sshHostKeySha256/,
                    /sshKnownHosts/,
                    /sshAllowUnknownHostKeys: true/,
                ],
                secretsOf(a),
            );
        });

        it("connects to an unknown host with allowUnknownHostKey (sshAllowUnknownHostKeys: true)", async () => {
            const ssh = { privateKey: a.privateKey, allowUnknownHostKey: true };
            assert.match(await ask(a.url(lb.adminSocket), { ssh }), /^Name: HAProxy/m);
        });

        it("a wrong passphrase is reported without any secret", async () => {
            const url = a.url(lb.adminSocket);
            const wrong = "not-the-passphrase-31337";
            await refused(
                ask(url, { ssh: { privateKey: a.encryptedPrivateKey, passphrase: wrong, hostKeySha256: a.hostKeySha256 } }),
                url,
                [/SSH: /],
                [...secretsOf(a), wrong],
            );
            const files = hostFilesFor(parseEndpoint(url), { ssh: { privateKey: a.encryptedPrivateKey, passphrase: wrong, hostKeySha256: a.hostKeySha256 } });
            await assert.rejects(files.read(`${lb.dir}/servers/x.cfg`), (err: Error) => {
                assert.ok(err instanceof RuntimeConnectionError, String(err));
                for (const secret of [...secretsOf(a), wrong]) assert.ok(!err.message.includes(secret), err.message);
                return true;
            });
        });

        it("a login the server refuses is not retryable; a host that cannot be reached is", async () => {
            const nobody = a.url(lb.adminSocket).replace(`//${a.username}@`, "//nobody@");
            await refused(ask(nobody, { ssh: { privateKey: a.privateKey, hostKeySha256: a.hostKeySha256 } }), nobody, [/SSH: All configured authentication methods failed/], secretsOf(a));
            const { proxy, url } = await proxyTo(a);
            await proxy.stop();
            await assert.rejects(ask(url, { ssh: { privateKey: a.privateKey, hostKeySha256: a.hostKeySha256 } }), (err: unknown) => {
                assert.ok(err instanceof RuntimeConnectionError && err.retryable, String(err));
                assert.match(err.message, /SSH: connect ECONNREFUSED/);
                return true;
            });
        });
    });

    describe("one pooled connection", () => {
        it("carries 28 Runtime API connections (20 one after another, 8 at once) over one SSH handshake", async () => {
            const { proxy, url } = await proxyTo(a);
            const options = { ssh: { privateKey: a.privateKey, hostKeySha256: a.hostKeySha256 } };
            for (let i = 0; i < 20; i++) assert.match(await ask(url, options), /^Name: HAProxy/m);
            // At most 8 at once: HAProxy's stats socket accepts 10 connections (`stats maxconn`).
            const replies = await Promise.all(Array.from({ length: 8 }, () => ask(url, options)));
            assert.ok(replies.every((r) => /^Name: HAProxy/m.test(r)));
            assert.equal(proxy.accepted, 1, "one TCP connection, so one SSH handshake");
        });

        it("is closed after the idle time and made again by the next call", async () => {
            const { proxy, url } = await proxyTo(a);
            const options = { sshIdleTimeoutMs: 200, ssh: { privateKey: a.privateKey, hostKeySha256: a.hostKeySha256 } };
            await ask(url, options);
            assert.equal(proxy.open, 1, "kept open right after the call");
            await waitFor(() => (proxy.open === 0 ? true : undefined), { what: "the idle SSH connection to close", timeoutMs: 3000 });
            await ask(url, options);
            assert.equal(proxy.accepted, 2);
        });

        it("a dropped connection is made again on the next call", async () => {
            const { proxy, url } = await proxyTo(a);
            const options = { ssh: { privateKey: a.privateKey, hostKeySha256: a.hostKeySha256 } };
            await ask(url, options);
            proxy.dropAll();
            await waitFor(() => (proxy.open === 0 ? true : undefined), { what: "the relay to drop", timeoutMs: 3000 });
            // Lets the client's socket receive the relay's FIN, as it would before a polling round 100 ms later.
            await new Promise((r) => setTimeout(r, 50));
            assert.match(await ask(url, options), /^Name: HAProxy/m);
            assert.equal(proxy.accepted, 2);
        });

        it("different credentials get their own connection", async () => {
            const { proxy, url } = await proxyTo(a);
            await ask(url, { ssh: { privateKey: a.privateKey, hostKeySha256: a.hostKeySha256 } });
            await ask(url, { ssh: { privateKey: a.encryptedPrivateKey, passphrase: a.passphrase, hostKeySha256: a.hostKeySha256 } });
            assert.equal(proxy.accepted, 2);
        });
    });

    describe("files over SFTP", () => {
        const options = () => ({ ssh: { privateKey: a.privateKey, hostKeySha256: a.hostKeySha256 } });

        it("reads a missing file as undefined, and an existing one", async () => {
            const { url } = await proxyTo(a);
            const files = hostFilesFor(parseEndpoint(url), options());
            assert.equal(await files.read(`${lb.dir}/no-such-folder/servers.cfg`), undefined);
            await writeFile(join(lb.dir, "existing.cfg"), "backend app\n");
            assert.equal(await files.read(join(lb.dir, "existing.cfg")), "backend app\n");
        });

        it("replace creates the folders, writes mode 0644, leaves no temporary file, on the Runtime API's SSH connection", async () => {
            const { proxy, url } = await proxyTo(a);
            const files = hostFilesFor(parseEndpoint(url), options());
            const folder = join(lb.dir, "new", "nested");
            const path = join(folder, "app.cfg");
            await ask(url, options());
            await files.replace(path, "backend app\n    server s1 127.0.0.1:1\n");
            assert.equal(await readFile(path, "utf8"), "backend app\n    server s1 127.0.0.1:1\n");
            assert.equal((await stat(path)).mode & 0o777, 0o644);
            assert.deepEqual(await readdir(folder), ["app.cfg"]);
            assert.equal(await files.read(path), "backend app\n    server s1 127.0.0.1:1\n");
            assert.equal(proxy.accepted, 1, "the Runtime API and the SFTP sessions share one SSH connection");
        });

        it("replace is atomic: a reader never sees a half-written file", async () => {
            const { url } = await proxyTo(a);
            const files = hostFilesFor(parseEndpoint(url), options());
            const path = join(lb.dir, "atomic", "app.cfg");
            const versions = ["a", "b", "c", "d", "e", "f"].map((c) => `# version ${c}\n${c.repeat(256 * 1024)}\n`);
            await files.replace(path, versions[0]);
            let writing = true;
            const seen = new Set<string>();
            const reader = (async () => {
                while (writing) {
                    const text = await readFile(path, "utf8");
                    assert.ok(versions.includes(text), `a partial file was read (${text.length} bytes)`);
                    seen.add(text.slice(0, 11));
                }
            })();
            try {
                for (const version of versions.slice(1)) await files.replace(path, version);
            } finally {
                writing = false;
                await reader;
            }
            assert.equal(await readFile(path, "utf8"), versions[versions.length - 1]);
            assert.ok(seen.size >= 2, `the reader saw the file change (${[...seen].join(", ")})`);
            assert.deepEqual(await readdir(join(lb.dir, "atomic")), ["app.cfg"]);
        });

        it("a failed replace removes its temporary file and is a HostFileError", async () => {
            const { url } = await proxyTo(a);
            const files = hostFilesFor(parseEndpoint(url), options());
            const folder = join(lb.dir, "blocked");
            const path = join(folder, "app.cfg");
            await mkdir(join(path, "inside"), { recursive: true }); // the target is a non-empty folder: rename fails
            await assert.rejects(files.replace(path, "backend app\n"), (err: Error) => {
                assert.ok(err instanceof HostFileError, String(err));
                assert.match(err.message, new RegExp(`^${escape(described(url))}: cannot replace ${escape(path)} over SFTP: `));
                return true;
            });
            assert.deepEqual(await readdir(folder), ["app.cfg"], "no temporary file is left");
        });
    });
});
