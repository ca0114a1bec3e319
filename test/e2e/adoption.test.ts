/**
 * End to end through the real engine: an existing fleet (two servers the operator defined in the servers
 * file, outside any generation) is adopted by the next flip. Under traffic, the new generation attaches,
 * then the old generation and the fleet are drained and removed; after a reload of every load balancer
 * the fleet is still gone, and a preview sees nothing to do.
 */
import * as assert from "node:assert/strict";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { deployedState, flipUnderTraffic, membershipOf } from "../../scripts/lib/flip";
import { reloadLoadBalancer } from "../../src/targets/local/haproxyControl";
import { SERVERS_DIR } from "../../src/targets/local/haproxyConfig";
import { startHttpServer, type TestHttpServer } from "../../lab/httpServer";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";

describe("end to end: adopting an existing fleet", function () {
    this.timeout(600_000);
    let p: ScratchProject;
    const fleet: TestHttpServer[] = [];

    const lbDir = (name: string) => join(p.stateDir, "local", "adopt", "lb", name);

    async function members(): Promise<Record<string, string[]>> {
        const state = await deployedState(p.stack);
        const membership = await membershipOf(state.loadBalancers, state.backend);
        return Object.fromEntries(membership.map((m) => [m.lb, m.servers.map((s) => `${s.name} ${s.status}`).sort()]));
    }

    async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
        const deadline = Date.now() + 15_000;
        while (!(await condition())) {
            if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
            await new Promise((r) => setTimeout(r, 100));
        }
    }

    before(async () => {
        p = await scratchProject("adopt");
        // The database at the newest schema from the start: every generation flipped to here works with it (g2 needs 0002).
        await p.setConfig("database", { migration: { version: "0002" } });
        assert.equal((await p.stack.up()).summary.result, "succeeded");
    });
    after(async () => {
        await Promise.all(fleet.map((s) => s.stop()));
        await p?.dispose();
    });

    it("the next flip drains and removes the fleet with the old generation, under load: 0 failed; after reloads it is still gone", async () => {
        fleet.push(await startHttpServer("web1"), await startHttpServer("web2"));
        for (const lb of ["lb1", "lb2"]) {
            // What the operator's one-time move of the backend section brings along: their own server lines.
            const lines = fleet.map((s) => `    server ${s.name} 127.0.0.1:${s.port} check inter 100 rise 1 fall 2\n`).join("");
            await appendFile(join(lbDir(lb), SERVERS_DIR, "app.cfg"), lines);
            await reloadLoadBalancer(lbDir(lb), "master");
        }
        const fleetUp = ["app-g1-0 UP", "app-g1-1 UP", "web1 UP", "web2 UP"];
        await until(async () => Object.values(await members()).every((s) => s.join() === fleetUp.join()), "the fleet UP on both load balancers");

        const haproxy = JSON.parse((await p.stack.getConfig("haproxy-bluegreen:haproxy")).value) as Record<string, unknown>;
        await p.setConfig("haproxy", { ...haproxy, adopt: ["web1", "web2"], drain: { timeoutSeconds: 60, pollIntervalMs: 100, quietPeriodSeconds: 1 } });
        const run = await flipUnderTraffic(p.stack, "g2", { traffic: { ratePerSecond: 120, clients: 6, longRequestMs: 2000, longEveryMs: 500 } });
        assert.equal(run.error, undefined, run.error?.message);
        assert.ok(run.traffic.total >= 100, `enough traffic to mean something: ${run.traffic.total}`);
        assert.deepEqual(run.traffic.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
        assert.ok(fleet.every((s) => s.requests > 0), "the fleet served before it was retired");
        const served = fleet.map((s) => s.requests);

        const g2 = ["app-g2-0 UP", "app-g2-1 UP"];
        assert.deepEqual(await members(), { lb1: g2, lb2: g2 });
        for (const lb of ["lb1", "lb2"]) await reloadLoadBalancer(lbDir(lb), "master");
        await new Promise((r) => setTimeout(r, 1000));
        assert.deepEqual(await members(), { lb1: g2, lb2: g2 }, "still gone after a reload");
        assert.deepEqual(fleet.map((s) => s.requests), served, "no request reached the fleet after its removal");
        await p.stack.preview({ expectNoChanges: true });
        console.log(`      flip g1 -> g2 adopting a 2-server fleet: ${run.traffic.total} requests, ${run.traffic.failed.length} failed`);
    });
});
