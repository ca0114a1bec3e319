/**
 * Server options and sticky sessions against production-shaped HAProxy (issue 11): a backend whose
 * servers file holds the operator's `default-server` line (TLS to the servers, verified with a CA of
 * the test's own, a connection limit) and their own server, with cookie persistence; servers added
 * through the Membership provider must be what that server is, refused before anything changes when
 * they would not be, and a client that sticks to a draining server keeps it until the quiet period
 * after its last request has passed.
 *
 * Version-agnostic: the HAProxy is the one BLUEGREEN_HAPROXY_VERSION selects (2.6, 3.0, 3.2). On 2.6 the
 * added servers get the backend's dynamic cookie; from 3.0 on, `cookie <server name>`.
 */
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import provider from "../../../src/haproxy/membershipProvider";
import { RuntimeClient } from "../../../src/haproxy/runtime/client";
import { findServerState, findStatRow, type ServerStateRow, type StatRow } from "../../../src/haproxy/runtime/parsers";
import type { RunningHaproxy } from "../../../lab/haproxy";
import { fetchText, startHttpsServer, type TestHttpServer, type TlsIdentity } from "../../../lab/httpServer";
import { membershipLab } from "../../support/membershipLab";
import { makeTestCa, type TestCa } from "../../support/testCa";
import { acceptsCookieOnAddServer } from "../../../src/haproxy/runtime/versions";

const CHECK = { enabled: true, inter: 100, rise: 1, fall: 2 };

/** The backend's persistence, as an operator sets it for HAProxy 2.6 to 3.2 (docs/OPERATING.md, sticky sessions). */
function cookieBackend(): string[] {
    return ["balance leastconn", "cookie SRV insert indirect nocache dynamic", `dynamic-cookie-key ${randomBytes(12).toString("hex")}`];
}

async function onLb<T>(lb: RunningHaproxy, use: (client: RuntimeClient) => Promise<T>): Promise<T> {
    const client = new RuntimeClient(lb.unixAdmin);
    try {
        return await use(client);
    } finally {
        await client.close();
    }
}

/** `show stat` and `show servers state` of the backend `app`. */
function backendNow(lb: RunningHaproxy): Promise<{ stat: StatRow[]; state: ServerStateRow[] }> {
    return onLb(lb, async (c) => ({ stat: await c.showStat("app"), state: await c.showServersState("app") }));
}

/** The value of the `SRV` cookie HAProxy set in a response, if any. */
function srvCookie(setCookie: string[]): string | undefined {
    return setCookie.map((c) => /^SRV=([^;]*)/.exec(c)?.[1]).find((v) => v !== undefined);
}

/** Waits (5 s at most) until the server is UP with a passed check on `lb`; returns its row. */
async function upOn(lb: RunningHaproxy, server: string): Promise<StatRow> {
    let row: StatRow | undefined;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(50)) {
        row = await onLb(lb, (c) => c.getServer("app", server));
        if (row?.status === "UP" && row.check_status === "L7OK") return row;
    }
    assert.fail(`${server} not UP with a passed check on ${lb.frontendUrl}: ${JSON.stringify(row)}`);
}

describe("Server options on a backend that speaks TLS to its servers (default-server, own server, cookies)", function () {
    this.timeout(120_000);
    let dir: string;
    let ca: TestCa;
    let staticServer: TestHttpServer;
    let defaultServer: string;
    let staticLine: string;
    const tls = (): TlsIdentity => ({ key: ca.serverKey, cert: ca.serverCert });
    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "server-options-"));
        ca = await makeTestCa(dir);
        staticServer = await startHttpsServer("static", tls());
        defaultServer = `default-server maxconn 64 ssl verify required ca-file ${ca.caFile}`;
        staticLine = `server static 127.0.0.1:${staticServer.port} check inter 100 rise 1 fall 2 cookie static`;
    });
    const { lbs, appServer, inputs, create } = membershipLab({
        check: CHECK,
        drain: { pollIntervalMs: 50, timeoutMs: 20_000, quietPeriodMs: 0 },
        haproxy: () => ({ backendSettings: cookieBackend(), serversFileLines: [defaultServer, staticLine] }),
    });
    after(async () => {
        await staticServer?.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
    });

    /**
     * Asserts that `server` is what the operator's own server is on `lb` (same connection limit, TLS,
     * UP after a check passed, a cookie of its own); returns its cookie.
     */
    async function assertLikeStatic(lb: RunningHaproxy, server: string, when: string): Promise<string> {
        const { stat, state } = await backendNow(lb);
        const [added, own] = [findStatRow(stat, "app", server), findStatRow(stat, "app", "static")];
        const where = `${server} on ${lb.frontendUrl} ${when}`;
        assert.ok(added && own, `${where}: both servers in show stat: ${stat.map((r) => r.svname).join(", ")}`);
        assert.equal(added.slim, 64, `${where}: slim`);
        assert.equal(added.slim, own.slim, `${where}: slim as the operator's own server's`);
        assert.deepEqual(
            [findServerState(state, "app", server)?.srv_use_ssl, findServerState(state, "app", "static")?.srv_use_ssl],
            [1, 1],
            `${where}: srv_use_ssl of it and of static`,
        );
        assert.deepEqual([added.status, added.check_status], ["UP", "L7OK"], `${where}: UP after an HTTP check over TLS passed`);
        assert.ok(added.cookie, `${where}: a cookie of its own (show stat cookie column)`);
        assert.notEqual(added.cookie, own.cookie, `${where}: not the operator's server's cookie`);
        return added.cookie;
    }

    it("a server added with the backend's options has its maxconn, TLS (checks and traffic, verified) and a cookie, also after reloads", async () => {
        const s = await appServer("tls-added", tls());
        const filesBefore = await Promise.all(lbs.map((lb) => readFile(lb.serversFile, "utf8")));
        const outs = await create(
            inputs(s, { options: { ssl: true, verify: "required", caFile: ca.caFile, sni: "localhost", maxconn: 64, cookie: true } }),
        );
        assert.deepEqual(outs.attachedTo, ["lb1", "lb2"]);

        const cookies: string[] = [];
        for (const lb of lbs) cookies.push(await assertLikeStatic(lb, "tls-added", "after the attach"));
        assert.equal(cookies[0], cookies[1], "the same cookie on both load balancers: a client may move between them");
        // 3.0 and later take `cookie <server name>` on `add server`; 2.6 gives the backend's dynamic cookie (a hash, in hex).
        const version = (await onLb(lbs[0], (c) => c.currentProcess())).version;
        const explicit = acceptsCookieOnAddServer(version);
        if (explicit) assert.equal(cookies[0], "tls-added", `HAProxy ${version}: cookie <server name>`);
        else assert.match(cookies[0], /^[0-9a-f]{16}$/, `HAProxy ${version}: the backend's dynamic cookie`);
        assert.ok(s.healthChecks > 0, "health checks reached the HTTPS server (they could only pass over TLS)");
        for (const [i, lb] of lbs.entries()) {
            const text = await readFile(lb.serversFile, "utf8");
            assert.ok(text.includes(`    ${defaultServer}\n`) && text.includes(`    ${staticLine}\n`), `lb${i + 1}: the operator's lines kept as written`);
            const options = `maxconn 64 ssl verify required ca-file ${ca.caFile} sni str\\(localhost\\) check inter 100 rise 1 fall 2 check-ssl`;
            assert.match(text, new RegExp(`^ {4}server tls-added 127\\.0\\.0\\.1:${s.port} weight 1 ${options}${explicit ? " cookie tls-added" : ""}$`, "m"));
        }

        // Through the frontend: the cookie leads to the added server, over TLS with its SNI.
        for (const lb of lbs) {
            const r = await fetchText(`${lb.frontendUrl}/`, { cookie: `SRV=${cookies[0]}` });
            assert.deepEqual([r.status, r.body], [200, "tls-added"], `through ${lb.frontendUrl} with its cookie`);
        }
        console.log(`      HAProxy ${version}: tls-added has slim 64, srv_use_ssl 1, check L7OK over TLS, cookie ${cookies[0]}`);
        assert.ok(s.requests >= 2, "requests reached the HTTPS server");
        assert.ok(s.serverNames.has("localhost"), `requests came with SNI localhost: ${[...s.serverNames].join(", ")}`);
        // A new client is given the cookie of whichever server answered.
        const fresh = await Promise.all(Array.from({ length: 6 }, (_, i) => fetchText(`${lbs[i % 2].frontendUrl}/`)));
        for (const r of fresh) {
            assert.equal(r.status, 200);
            assert.equal(srvCookie(r.setCookie), r.body === "tls-added" ? cookies[0] : "static", `Set-Cookie of a response from ${r.body}`);
        }

        // The servers file brings it back the same after a reload (master-worker USR2, seamless -sf).
        await lbs[0].reload("master");
        await lbs[1].reload("seamless");
        for (const lb of lbs) {
            await upOn(lb, "tls-added");
            assert.equal(await assertLikeStatic(lb, "tls-added", "after a reload"), cookies[0], "the same cookie after the reload");
            const r = await fetchText(`${lb.frontendUrl}/`, { cookie: `SRV=${cookies[0]}` });
            assert.deepEqual([r.status, r.body], [200, "tls-added"], `through ${lb.frontendUrl} after the reload`);
        }

        await provider.delete!("app/tls-added", outs);
        for (const [i, lb] of lbs.entries()) {
            assert.equal(findStatRow((await backendNow(lb)).stat, "app", "tls-added"), undefined);
            assert.equal(await readFile(lb.serversFile, "utf8"), filesBefore[i], "the servers file as the operator left it");
        }
    });

    it("verify required is in force: a server whose certificate the CA does not vouch for never passes its check, and is taken back out", async () => {
        const otherDir = await mkdtemp(join(tmpdir(), "server-options-other-ca-"));
        try {
            const stranger = await makeTestCa(otherDir);
            const s = await appServer("untrusted", { key: stranger.serverKey, cert: stranger.serverCert });
            const options = { ssl: true, verify: "required", caFile: ca.caFile, maxconn: 64, cookie: true };
            await assert.rejects(create(inputs(s, { options, attachTimeoutMs: 2000 })), /lb1: .*untrusted: not UP within 2000 ms \(status MAINT, last check L6/s);
            for (const lb of lbs) assert.equal(findStatRow((await backendNow(lb)).stat, "app", "untrusted"), undefined, "taken back out");
            assert.equal(s.requests, 0, "no request reached it");
        } finally {
            await rm(otherDir, { recursive: true, force: true });
        }
    });

    it("pre-flight: a server without ssl, maxconn or cookie is refused on every load balancer, and nothing changes", async () => {
        const s = await appServer("bare", tls());
        const filesBefore = await Promise.all(lbs.map((lb) => readFile(lb.serversFile, "utf8")));
        const spec = inputs(s);

        const { failures = [] } = await provider.check!({}, spec);
        assert.deepEqual(failures.map((f) => f.property), ["options", "options"], "one failure per load balancer");
        for (const [i, f] of failures.entries()) {
            assert.match(f.reason, new RegExp(`^lb${i + 1}: backend app: the server bare would not be what the backend's own servers are`));
            for (const option of ["ssl", "verify", "caFile", "maxconn"]) {
                assert.match(f.reason, new RegExp(`options\\.${option}: default-server says .* \\(servers file\\)`), `options.${option} against default-server`);
            }
            assert.match(f.reason, /options\.ssl: every other server \(static\) speaks TLS/);
            assert.match(f.reason, /options\.maxconn: every other server \(static\) has a connection limit \(slim 64\)/);
            assert.match(f.reason, /options\.cookie: the backend uses cookie persistence \(cookie SRV\)/);
        }
        console.log(`      pre-flight failure on lb1:\n        ${failures[0].reason.split("\n").join("\n        ")}`);
        // A create that skips the check (an engine would not) is refused the same way.
        await assert.rejects(provider.create(spec), /lb1: .*options\.ssl.*options\.maxconn.*options\.cookie.*\n.*lb2: /s);

        for (const [i, lb] of lbs.entries()) {
            assert.equal(findStatRow((await backendNow(lb)).stat, "app", "bare"), undefined, `no bare on lb${i + 1}`);
            assert.equal(await readFile(lb.serversFile, "utf8"), filesBefore[i], `lb${i + 1}'s servers file byte-identical`);
        }
        assert.deepEqual([s.requests, s.healthChecks], [0, 0], "the server was never contacted");
    });
});

/** Where a server was seen on one load balancer while watched. */
interface Presence {
    /** When the last `show stat` that still listed it was sent (removal came after). */
    lastPresentSentAt: number;
    /** When the first `show stat` that no longer listed it answered (removal came before). */
    firstAbsentAt?: number;
    statuses: Set<string>;
}

/** Watches `server` in `show stat` on each load balancer every `intervalMs` until it is gone everywhere or `stop()`. */
function watchPresence(lbs: RunningHaproxy[], server: string, intervalMs: number): { stop(): Promise<Presence[]> } {
    let stopped = false;
    const watches = lbs.map(async (lb) => {
        const seen: Presence = { lastPresentSentAt: 0, statuses: new Set() };
        await onLb(lb, async (client) => {
            while (!stopped && seen.firstAbsentAt === undefined) {
                const sentAt = Date.now();
                const row = await client.getServer("app", server);
                if (row) {
                    seen.lastPresentSentAt = sentAt;
                    seen.statuses.add(row.status ?? "?");
                } else seen.firstAbsentAt = Date.now();
                await sleep(intervalMs);
            }
        });
        return seen;
    });
    return {
        stop() {
            stopped = true;
            return Promise.all(watches);
        },
    };
}

/** One request of the sticky client. */
interface StickyRequest {
    lb: number;
    status: number;
    body: string;
    setCookie: string[];
    error?: string;
    endedAt: number;
}

describe("Sticky sessions through a drain: persistence honoured, removal only after the quiet period", function () {
    this.timeout(120_000);
    const QUIET_MS = 1500;
    const TICK_MS = 300;
    const { lbs, appServer, inputs, create } = membershipLab({
        check: CHECK,
        drain: { pollIntervalMs: 50, timeoutMs: 30_000, quietPeriodMs: QUIET_MS },
        haproxy: () => ({ backendSettings: cookieBackend() }),
    });

    it("a client sticking to the old generation keeps it through the drain; it goes quietPeriodMs after its last request; then the new one answers", async () => {
        const requests: StickyRequest[] = [];
        const get = async (lb: number, cookie?: string): Promise<StickyRequest> => {
            const r = await fetchText(`${lbs[lb].frontendUrl}/`, cookie ? { cookie: `SRV=${cookie}` } : {}).then(
                (res) => ({ lb, status: res.status, body: res.body, setCookie: res.setCookie, endedAt: res.endedAt }),
                (err: Error) => ({ lb, status: 0, body: "", setCookie: [], error: err.message, endedAt: Date.now() }),
            );
            requests.push(r);
            return r;
        };
        const old = await appServer("gen-old");
        const oldOuts = await create(inputs(old, { options: { cookie: true } }));
        const first = await get(0);
        const cookie = srvCookie(first.setCookie);
        assert.equal(first.body, "gen-old");
        const rows = await Promise.all(lbs.map((lb) => onLb(lb, (c) => c.getServer("app", "gen-old"))));
        assert.ok(cookie, `the client got a cookie: ${JSON.stringify(first.setCookie)}`);
        assert.deepEqual(rows.map((r) => r?.cookie), [cookie, cookie], "its cookie is gen-old's on both load balancers");

        const fresh = await appServer("gen-new");
        await create(inputs(fresh, { options: { cookie: true } }));
        // Before the flip: the sticky client keeps gen-old, while new clients are also sent to gen-new.
        const before = await Promise.all(Array.from({ length: 6 }, (_, i) => get(i % 2, cookie)));
        assert.deepEqual(before.map((r) => [r.status, r.body]), Array(6).fill([200, "gen-old"]), "the sticky client stays on gen-old");
        const others = await Promise.all(Array.from({ length: 10 }, (_, i) => get(i % 2)));
        assert.ok(others.some((r) => r.body === "gen-new"), `new clients reach gen-new too: ${others.map((r) => r.body).join(", ")}`);

        // The flip: gen-old drains while the sticky client goes on with a request to each load balancer every 300 ms.
        const watch = watchPresence(lbs, "gen-old", 5);
        const deleteStartedAt = Date.now();
        let removed = false;
        const deleting = provider.delete!("app/gen-old", oldOuts).then(() => (removed = true));
        const during: StickyRequest[] = [];
        for (let tick = 0; tick < 8 && !removed; tick++) {
            const started = Date.now();
            during.push(...(await Promise.all(lbs.map((_, i) => get(i, cookie)))));
            await sleep(Math.max(0, TICK_MS - (Date.now() - started)));
        }
        const stickyStoppedAt = Date.now();
        await deleting;
        const deletedAt = Date.now();
        const presence = await watch.stop();

        assert.equal(during.length, 16, `the sticky client sent 8 rounds before gen-old was removed (removed after ${deletedAt - deleteStartedAt} ms)`);
        assert.deepEqual(
            during.map((r) => [r.status, r.body]),
            Array(during.length).fill([200, "gen-old"]),
            `during the drain the sticky client still reached gen-old (persistence honoured in DRAIN): ${during.map((r) => `lb${r.lb + 1} +${r.endedAt - deleteStartedAt} ms ${r.body}`).join(", ")}`,
        );
        const quiet = presence.map((p, i) => {
            assert.ok(p.statuses.has("DRAIN"), `gen-old was seen in DRAIN on lb${i + 1}: ${[...p.statuses].join(", ")}`);
            assert.ok(p.firstAbsentAt !== undefined, `gen-old removed from lb${i + 1}`);
            const lastEnd = Math.max(...during.filter((r) => r.lb === i).map((r) => r.endedAt));
            const atLeast = p.lastPresentSentAt - lastEnd;
            assert.ok(
                atLeast >= QUIET_MS,
                `lb${i + 1}: gen-old was removed at least ${atLeast} ms after the sticky client's last request there ended, not ${QUIET_MS}`,
            );
            return { atLeast, atMost: p.firstAbsentAt - lastEnd };
        });

        // The same client, with its now stale cookie, is answered by gen-new.
        const after = await Promise.all(lbs.map((_, i) => get(i, cookie)));
        assert.deepEqual(after.map((r) => [r.status, r.body]), [[200, "gen-new"], [200, "gen-new"]], "the stale cookie is answered by gen-new");
        assert.ok(after.every((r) => srvCookie(r.setCookie)), "and given gen-new's cookie");

        const failed = requests.filter((r) => r.status !== 200);
        assert.deepEqual(failed, [], "no request failed");
        console.log(
            `      sticky client: ${requests.length} requests, ${failed.length} failed; ${during.length} during the drain, all on gen-old; ` +
                `stopped ${stickyStoppedAt - deleteStartedAt} ms into the drain; gen-old removed ` +
                quiet.map((q, i) => `on lb${i + 1} ${q.atLeast}-${q.atMost} ms`).join(", ") +
                ` after the client's last request there ended (quiet period ${QUIET_MS} ms)`,
        );
    });
});
