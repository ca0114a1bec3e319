/**
 * Memberships against HAProxy run the way production runs it: master-worker mode, a server-state file
 * saved before each reload, server-side connection reuse, and reloads (seamless `-sf`, master-worker
 * USR2, restart) while traffic flows. The provider's methods are called as the dynamic-provider host
 * calls them.
 */
import * as assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import provider from "../../../src/haproxy/membershipProvider";
import { RuntimeClient } from "../../../src/haproxy/runtime/client";
import { FORGET_CONFIG_KEY } from "../../../src/haproxy/forget";
import { forgetAnnouncedSettings } from "../../../src/haproxy/todaysSettings";
import type { StatRow } from "../../../src/haproxy/runtime/parsers";
import { Traffic, type TrafficResult } from "../../../scripts/lib/traffic";
import type { RunningHaproxy } from "../../../lab/haproxy";
import { fetchText } from "../../../lab/httpServer";
import { membershipLab } from "../../support/membershipLab";
import { startCommandGate, type CommandGate } from "../../support/commandGate";
import { waitFor } from "../../../lab/wait";

const RELOADS = ["seamless", "master", "restart"] as const;

describe("Membership durability against production-shaped HAProxy (master-worker, state file, reloads)", function () {
    this.timeout(180_000);
    const { lbs, log, appServer, inputs, create, lbRefs } = membershipLab({
        check: { enabled: true, inter: 100, rise: 1, fall: 2 },
        drain: { pollIntervalMs: 50, timeoutMs: 30_000 },
    });
    afterEach(() => configureForgotten([]));
    const gates: CommandGate[] = [];
    after(() => Promise.all(gates.map((g) => g.close())));

    /** A command gate before lb2's admin socket, closed after the suite: the clean-up after each test reaches lb2 through it. */
    async function gateBeforeLb2(): Promise<{ gate: CommandGate; loadBalancers: Record<string, unknown>[] }> {
        const gate = await startCommandGate(lbs[1].unixAdmin.replace(/^unix:\/\//, ""));
        gates.push(gate);
        return { gate, loadBalancers: lbRefs((lb) => (lb === lbs[1] ? gate.endpoint : lb.unixAdmin)) };
    }

    async function rows(lb: RunningHaproxy): Promise<Map<string, StatRow>> {
        const client = new RuntimeClient(lb.unixAdmin);
        try {
            return new Map((await client.showStat("app")).filter((r) => r.svname !== "BACKEND").map((r) => [r.svname, r]));
        } finally {
            await client.close();
        }
    }

    /** `name status` of every server, sorted: what "the same servers in the same admin state" compares. */
    async function membership(lb: RunningHaproxy): Promise<string[]> {
        return [...(await rows(lb)).values()].map((r) => `${r.svname} ${r.status}`).sort();
    }

    async function configureForgotten(names: string[]): Promise<void> {
        const value = JSON.stringify(names);
        await provider.configure!({ config: { get: (k: string) => (k === FORGET_CONFIG_KEY ? value : undefined), require: () => value } });
    }

    function traffic(): Traffic {
        return new Traffic({ urls: lbs.map((lb) => lb.frontendUrl), ratePerSecond: 120, clients: 6, longRequestMs: 1500, longEveryMs: 500 });
    }

    function assertNoFailures(result: TrafficResult, minimum: number): void {
        assert.ok(result.total >= minimum, `enough requests to mean something: ${result.total}`);
        assert.deepEqual(result.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
    }

    it("after each kind of reload of each load balancer, under load: the same servers, in the same admin state, 0 failed", async () => {
        const serving = await appServer("keep");
        const draining = await appServer("parked");
        const gone = await appServer("gone");
        // A drain that timed out (onTimeout fail) leaves its server attached, in DRAIN.
        const parkedOuts = await create(inputs(draining, { drain: { pollIntervalMs: 50, timeoutMs: 300, onTimeout: "fail" } }));
        const held = new Traffic({ urls: [lbs[0].frontendUrl], ratePerSecond: 1, clients: 1, longRequestMs: 2500, longEveryMs: 60_000 });
        await new Promise((r) => setTimeout(r, 200)); // the long request is on parked, the only server
        const keepOuts = await create(inputs(serving));
        // parked is deleted as in an update that registers no other membership of the backend: with its
        // own stored settings (keep's check announced the suite's longer drain).
        forgetAnnouncedSettings();
        await assert.rejects(provider.delete!("app/parked", parkedOuts), /still \d+ sessions/);
        assertNoFailures(await held.stop(), 1);
        const goneOuts = await create(inputs(gone));
        await provider.delete!("app/gone", goneOuts);
        const goneRequests = gone.requests;

        const before = await Promise.all(lbs.map(membership));
        // lb1 holds parked's long request: parked stays there in DRAIN (lb2 had no session: it was removed there).
        assert.deepEqual(before, [["keep UP", "parked DRAIN"], ["keep UP"]]);
        const load = traffic();
        const pids: number[][] = [];
        for (const [n, lb] of lbs.entries()) {
            for (const kind of RELOADS) {
                const was = lb.pid;
                await lb.reload(kind);
                pids.push([was, lb.pid]);
                await new Promise((r) => setTimeout(r, 700));
                assert.deepEqual(await membership(lb), before[n], `after a ${kind} reload of lb${n + 1}`);
            }
        }
        const result = await load.stop();
        assertNoFailures(result, 400);
        console.log(`      6 reloads under load: ${result.total} requests, ${result.failed.length} failed`);
        assert.ok(pids.every(([was, now]) => was !== now), `every reload started a new worker: ${JSON.stringify(pids)}`);
        assert.equal(gone.requests, goneRequests, "the detached server never came back");
        await provider.delete!("app/parked", parkedOuts);
        await provider.delete!("app/keep", keepOuts);
        for (const lb of lbs) assert.deepEqual(await membership(lb), []);
    });

    it("a reload in the middle of a drain: the long request on the old process still counts, completes, then the server goes", async () => {
        const old = await appServer("mid-old");
        const fresh = await appServer("mid-new");
        const oldOuts = await create(inputs(old));
        const slow = fetchText(`${lbs[0].frontendUrl}/slow?ms=3000`);
        await new Promise((r) => setTimeout(r, 200)); // the long request is on mid-old, the only server
        const newOuts = await create(inputs(fresh));
        const load = traffic();
        const deleting = provider.delete!("app/mid-old", oldOuts).then(() => Date.now());
        await new Promise((r) => setTimeout(r, 400));
        await lbs[0].reload("master");
        const removedAt = await deleting;
        const long = await slow;
        assert.deepEqual([long.status, long.body], [200, "mid-old"], "the long request completed on the drained server");
        assert.ok(removedAt >= long.endedAt, `removed ${removedAt - long.endedAt} ms after the long request ended, not before`);
        assert.ok(log.some((m) => /mid-old: .*on a process replaced by a reload/.test(m)), "the old process's session was counted");
        const result = await load.stop();
        assertNoFailures(result, 100);
        for (const lb of lbs) assert.deepEqual(await membership(lb), ["mid-new UP"]);
        await provider.delete!("app/mid-new", newOuts);
    });

    for (const kind of RELOADS) {
        it(`a ${kind} reload in the middle of an attach (added, check not yet passed), under load: the attach completes, UP everywhere, 0 failed`, async () => {
            const serving = await appServer(`serving-${kind}`);
            const servingOuts = await create(inputs(serving));
            const load = traffic();
            const joining = await appServer(`joining-${kind}`);
            // A slow check (rise 3, every 1.5 s) keeps the new server in MAINT, unchecked, for seconds.
            const attach = create(inputs(joining, { check: { enabled: true, inter: 1500, rise: 3, fall: 2 }, attachTimeoutMs: 30_000 }));
            const before = await waitFor(async () => (await rows(lbs[1])).get(joining.name), { what: `${joining.name} added on lb2` });
            assert.match(`${before.status} ${before.check_status ?? ""}`, /^MAINT(?! .*L7OK)/, "the reload comes before the check passed");
            await lbs[1].reload(kind);
            const outs = await attach;
            assertNoFailures(await load.stop(), 100);
            for (const lb of lbs) assert.deepEqual(await membership(lb), [`${joining.name} UP`, `${serving.name} UP`].sort());
            await provider.delete!(`app/${joining.name}`, { ...outs, drain: { ...outs.drain, quietPeriodMs: 0 } });
            await provider.delete!(`app/${serving.name}`, { ...servingOuts, drain: { ...servingOuts.drain, quietPeriodMs: 0 } });
        });

        // The command of the moment is held on its way to lb2 while lb2 reloads, then goes on over the
        // connection it was sent on: to the process the reload replaced, as a command in flight would.
        const moments = [
            { moment: "before the add (the server's line written, add server not yet sent)", command: /^add server app\/joining-/ },
            { moment: "between the passed check and ready", command: /^set server app\/joining-\S+ state ready/ },
        ];
        for (const { moment, command } of moments) {
            it(`a ${kind} reload ${moment}, under load: the attach completes, UP everywhere, 0 failed`, async () => {
                const { gate, loadBalancers } = await gateBeforeLb2();
                const serving = await appServer(`serving-${kind}`);
                const servingOuts = await create(inputs(serving));
                const load = traffic();
                const joining = await appServer(`joining-${kind}`);
                const held = gate.hold(command);
                const attach = create(inputs(joining, { loadBalancers, attachTimeoutMs: 30_000 }));
                assert.match(await Promise.race([held, attach.then(() => "the attach ended without that command")]), command);
                await lbs[1].reload(kind);
                gate.release();
                const outs = await attach;
                for (const lb of lbs) assert.deepEqual(await membership(lb), [`${joining.name} UP`, `${serving.name} UP`].sort());
                assertNoFailures(await load.stop(), 50);
                await provider.delete!(`app/${joining.name}`, { ...outs, drain: { ...outs.drain, quietPeriodMs: 0 } });
                await provider.delete!(`app/${serving.name}`, { ...servingOuts, drain: { ...servingOuts.drain, quietPeriodMs: 0 } });
            });
        }
    }

    for (const kind of RELOADS) {
        it(`a ${kind} reload between the detach's MAINT and its del server, under load: removed from every process, 0 failed`, async () => {
            const { gate, loadBalancers } = await gateBeforeLb2();
            const staying = await appServer(`stays-${kind}`);
            const stayingOuts = await create(inputs(staying));
            const leaving = await appServer(`leaves-${kind}`);
            const leavingOuts = await create(inputs(leaving, { loadBalancers }));
            const load = traffic();
            const held = gate.hold(new RegExp(`^del server app/${leaving.name}\\b`));
            const deleting = provider.delete!(`app/${leaving.name}`, { ...leavingOuts, drain: { ...leavingOuts.drain, quietPeriodMs: 0 } });
            assert.match(await Promise.race([held, deleting.then(() => "the detach ended without del server")]), /^del server/);
            await lbs[1].reload(kind);
            gate.release();
            await deleting;
            for (const lb of lbs) assert.deepEqual(await membership(lb), [`${staying.name} UP`]);
            assertNoFailures(await load.stop(), 50);
            await provider.delete!(`app/${staying.name}`, { ...stayingOuts, drain: { ...stayingOuts.drain, quietPeriodMs: 0 } });
        });
    }

    it("a rollback after a drain timeout: the diff sees DRAIN without a refresh, the update makes it ready everywhere", async () => {
        const s = await appServer("rollback");
        const spec = inputs(s, { drain: { pollIntervalMs: 50, timeoutMs: 300, onTimeout: "fail" } });
        const outs = await create(spec);
        const held = new Traffic({ urls: [lbs[0].frontendUrl], ratePerSecond: 1, clients: 1, longRequestMs: 2000, longEveryMs: 60_000 });
        await new Promise((r) => setTimeout(r, 200));
        await assert.rejects(provider.delete!("app/rollback", outs), /still \d+ sessions/);
        // lb1 holds the long request: the server stays there in DRAIN (lb2 had no session: it was removed there).
        assert.match((await rows(lbs[0])).get("rollback")?.status ?? "", /^DRAIN/);
        const diff = await provider.diff!("app/rollback", outs, spec);
        assert.equal(diff.changes, true, "the stored outputs say attached, HAProxy says DRAIN");
        assert.deepEqual(diff.replaces, []);
        const updated = await provider.update!("app/rollback", outs, spec);
        for (const lb of lbs) assert.deepEqual(await membership(lb), ["rollback UP"]);
        for (const lb of lbs) assert.match(await readFile(lb.serversFile, "utf8"), /^ {4}server rollback \S+ weight 1 check inter 100 rise 1 fall 2$/m);
        assert.equal((await provider.diff!("app/rollback", updated.outs, spec)).changes, false);
        assertNoFailures(await held.stop(), 1);
        await provider.delete!("app/rollback", updated.outs);
    });

    it("a server another server tracks is refused before anything changes, naming the tracking server", async () => {
        const s = await appServer("tracked");
        const outs = await create(inputs(s));
        const other = join(dirname(lbs[0].serversFile), "zz-other.cfg");
        await writeFile(other, `backend other from ${lbs[0].backendDefaults}\n    server watcher ${s.host}:${s.port} track app/tracked\n`);
        try {
            await lbs[0].reload("master");
            await assert.rejects(provider.delete!("app/tracked", outs), /lb1: app\/tracked cannot be removed: .*other\/watcher.*remove that reference/s);
            for (const lb of lbs) assert.equal((await rows(lb)).get("tracked")?.status, "UP", "not drained anywhere");
        } finally {
            await writeFile(other, "");
            await lbs[0].reload("master");
        }
        await provider.delete!("app/tracked", outs);
    });

    it("a load balancer gone for good: listed in forgetLoadBalancers, deletes and updates leave it alone and converge", async () => {
        const s = await appServer("lost");
        const outs = await create(inputs(s));
        const dead = { ...outs, loadBalancers: [outs.loadBalancers[0], { name: "lb3", endpoint: "unix:///nonexistent/admin.sock", serversFile: "/nonexistent/app.cfg" }] };
        await assert.rejects(provider.delete!("app/lost", { ...dead, drain: { ...outs.drain, timeoutMs: 1500 } }), /lb3: .*could not be asked.*forgetLoadBalancers/s);
        await configureForgotten(["lb3"]);
        await provider.delete!("app/lost", dead);
        assert.equal((await rows(lbs[0])).get("lost"), undefined);
    });
});
