/**
 * The PoolMembership provider (all servers of a generation as one resource) against two real HAProxy
 * processes and real HTTP servers on loopback, called as the dynamic-provider host calls it.
 */
import * as assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import provider from "../../../src/haproxy/poolMembershipProvider";
import { RuntimeClient } from "../../../src/haproxy/runtime/client";
import type { RunningHaproxy } from "../../../lab/haproxy";
import { fetchText, type TestHttpServer } from "../../../lab/httpServer";
import { freePort } from "../../../lab/ports";
import { membershipLab } from "../../support/membershipLab";

type Outputs = Record<string, unknown> & { servers: { server: string; address: string; port: number }[]; attachedTo: string[] };

describe("PoolMembership provider against real HAProxy", function () {
    this.timeout(120_000);
    const lab = membershipLab({ check: { enabled: true, inter: 100, rise: 1, fall: 1 }, drain: { pollIntervalMs: 50, timeoutMs: 20_000 } });
    const { lbs, appServer, lbRefs } = lab;
    const created: Outputs[] = [];

    afterEach(async () => {
        for (const outs of created.splice(0)) {
            await provider.delete!("pool", { ...outs, drain: { ...(outs.drain as object), timeoutMs: 100, onTimeout: "force", quietPeriodMs: 0 } }).catch(() => undefined);
        }
    });

    const entry = (s: TestHttpServer) => ({ server: s.name, address: s.host, port: s.port });
    const inputs = (servers: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({
        loadBalancers: lbRefs(),
        backend: "app",
        servers,
        check: { enabled: true, inter: 100, rise: 1, fall: 1 },
        attachTimeoutMs: 10_000,
        drain: { pollIntervalMs: 50, timeoutMs: 20_000, quietPeriodMs: 300 },
        ...extra,
    });
    async function create(raw: Record<string, unknown>): Promise<Outputs> {
        const { inputs: checked, failures } = await provider.check!({}, raw);
        assert.deepEqual(failures ?? [], []);
        const outs = (await provider.create(checked)).outs as Outputs;
        created.push(outs);
        return outs;
    }
    async function statuses(lb: RunningHaproxy, names: string[]): Promise<(string | undefined)[]> {
        const client = new RuntimeClient(lb.unixAdmin);
        try {
            return await Promise.all(names.map(async (n) => (await client.getServer("app", n))?.status));
        } finally {
            await client.close();
        }
    }
    const generation = (g: string, size: number) => Promise.all(Array.from({ length: size }, (_, i) => appServer(`${g}-${i}`)));

    it("attaches a generation as one resource, and drains all its servers at once: requests in flight finish, new ones go to the next generation", async () => {
        const g1 = await generation("g1", 6);
        const g1Outs = await create(inputs(g1.map(entry)));
        assert.deepEqual(g1Outs.attachedTo, ["lb1", "lb2"]);
        for (const lb of lbs) assert.deepEqual(await statuses(lb, g1.map((s) => s.name)), g1.map(() => "UP"));
        const inFlight = [0, 1].map((i) => fetchText(`${lbs[i].frontendUrl}/slow?ms=2500`));
        await new Promise((r) => setTimeout(r, 300));
        const g2 = await generation("g2", 6);
        const g2Outs = await create(inputs(g2.map(entry)));

        const deleting = provider.delete!("pool", g1Outs).then(() => Date.now());
        await new Promise((r) => setTimeout(r, 400));
        for (const lb of lbs) {
            const now = await statuses(lb, g1.map((s) => s.name));
            // Out of rotation at once: draining (DRAIN), or already drained and being removed (MAINT, gone).
            assert.ok(now.every((s) => s === undefined || /^(DRAIN|MAINT)/.test(s)), `every g1 server drains at once: ${now.join(", ")}`);
        }
        const during = await Promise.all(Array.from({ length: 24 }, (_, i) => fetchText(`${lbs[i % 2].frontendUrl}/`)));
        assert.ok(during.every((r) => r.status === 200 && r.body.startsWith("g2-")), JSON.stringify(during.map((r) => r.body)));
        const finished = await Promise.all(inFlight);
        assert.ok(finished.every((r) => r.status === 200 && r.body.startsWith("g1-")), "the requests in flight completed on g1");
        const removedAt = await deleting;
        assert.ok(removedAt >= Math.max(...finished.map((r) => r.endedAt)), "removed only after the last session ended");
        for (const lb of lbs) {
            assert.deepEqual(await statuses(lb, g1.map((s) => s.name)), g1.map(() => undefined));
            const file = await readFile(lb.serversFile, "utf8");
            assert.ok(g1.every((s) => !file.includes(`server ${s.name} `)), "g1 left the servers file");
            assert.ok(g2.every((s) => file.includes(`server ${s.name} `)), "g2 is in the servers file");
        }
        created.splice(created.indexOf(g1Outs), 1);
        assert.deepEqual(g2Outs.servers.map((s) => s.server), g2.map((s) => s.name));
    });

    it("changes its servers in place: one that leaves is drained and removed, a new one attached; diff repairs a server left in DRAIN", async () => {
        const [a, b, c, d] = await generation("upd", 4);
        const before = await create(inputs([a, b, c].map(entry)));
        const news = inputs([a, b, d].map(entry));
        const diff = await provider.diff!("pool", before, news);
        assert.equal(diff.changes, true);
        assert.deepEqual(diff.replaces, []);
        const after = (await provider.update!("pool", before, news)).outs as Outputs;
        created.splice(created.indexOf(before), 1, after);
        for (const lb of lbs) assert.deepEqual(await statuses(lb, [a, b, c, d].map((s) => s.name)), ["UP", "UP", undefined, "UP"]);

        const client = new RuntimeClient(lbs[1].unixAdmin);
        await client.setState("app", a.name, "drain").finally(() => client.close());
        const repair = await provider.diff!("pool", after, news);
        assert.equal(repair.changes, true, "HAProxy says upd-0 is in DRAIN on lb2: the diff sees it without a refresh");
        await provider.update!("pool", after, news);
        assert.deepEqual(await statuses(lbs[1], [a.name]), ["UP"]);
        assert.equal((await provider.diff!("pool", after, news)).changes, false);
    });

    it("a server that never becomes healthy fails the create, and every server of the pool is taken back out", async () => {
        const good = await generation("part", 3);
        const dead = { server: "part-dead", address: "127.0.0.1", port: await freePort() };
        await assert.rejects(provider.create(inputs([...good.map(entry), dead], { attachTimeoutMs: 1500 })), /part-dead: not UP within 1500 ms/);
        for (const lb of lbs) {
            assert.deepEqual(await statuses(lb, [...good.map((s) => s.name), dead.server]), [undefined, undefined, undefined, undefined]);
            assert.ok(!(await readFile(lb.serversFile, "utf8")).includes("server part-"), "nothing left in the servers file");
        }
    });

    it("a name taken by another server (other address) fails the create, and that server is left alone", async () => {
        const [owner, mine] = await generation("taken", 2);
        await lab.create(lab.inputs(owner));
        const clash = { server: owner.name, address: mine.host, port: mine.port };
        await assert.rejects(provider.create(inputs([entry(mine), clash])), /taken-0 already exists with address/);
        for (const lb of lbs) assert.deepEqual(await statuses(lb, [owner.name, mine.name]), ["UP", undefined], "the owner's server still serves; ours was taken back out");
    });

    it("check names the bad server's field before anything is sent", async () => {
        const bad = await provider.check!({}, inputs([{ server: "ok-0", address: "127.0.0.1", port: 1 }, { server: "ok-1", address: "127.0.0.1;rm -rf /", port: 1 }]));
        assert.equal(bad.failures?.[0]?.property, "servers[1].address");
        const twice = await provider.check!({}, inputs([{ server: "same", address: "127.0.0.1", port: 1 }, { server: "same", address: "127.0.0.1", port: 2 }]));
        assert.equal(twice.failures?.[0]?.property, "servers[1].server");
        const none = await provider.check!({}, inputs([]));
        assert.equal(none.failures?.[0]?.property, "servers");
        const healthFile = await provider.check!({}, inputs([{ server: "hf", address: "127.0.0.1", port: 1, healthFile: "file:///tmp/x" }]));
        assert.match(healthFile.failures?.[0]?.reason ?? "", /servers\[0\]\.healthFile.*only with drain\.method healthcheck/);
    });
});
