/**
 * End to end, as hostile as production: the real engine, the local target's HAProxy in master-worker
 * mode with a server-state file and server-side connection reuse, real app processes, real traffic
 * (over 100 requests/s plus long requests). The load balancers are reloaded, restarted and killed the
 * way operators and failures do it. The tests run in order; each starts where the previous left the stack.
 */
import * as assert from "node:assert/strict";
import { join } from "node:path";
import type { Stack, UpResult } from "@pulumi/pulumi/automation";
import { deployedState, flipUnderTraffic, membershipOf, type FlipRun } from "../../scripts/lib/flip";
import { Traffic } from "../../scripts/lib/traffic";
import { killLoadBalancer, reloadLoadBalancer, type ReloadKind } from "../../src/targets/local/haproxyControl";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";

/** Over 100 requests/s through every frontend, and a 3 s request every 500 ms. */
const LOAD = { ratePerSecond: 120, clients: 6, longRequestMs: 3000, longEveryMs: 500 };

describe("end to end: a site that survives reloads, restarts, stuck drains and lost load balancers", function () {
    this.timeout(900_000);
    let p: ScratchProject;
    const figures: string[] = [];

    const lbDir = (name: string) => join(p.stateDir, "local", "e2e", "lb", name);

    async function members(stack: Stack): Promise<Record<string, string[]>> {
        const state = await deployedState(stack);
        const membership = await membershipOf(state.loadBalancers, state.backend);
        return Object.fromEntries(membership.map((m) => [m.lb, m.servers.map((s) => `${s.name} ${s.status}`).sort()]));
    }

    function assertServing(all: Record<string, string[]>, generation: string, lbs = ["lb1", "lb2"]): void {
        assert.deepEqual(Object.keys(all).sort(), lbs);
        for (const [lb, servers] of Object.entries(all)) {
            assert.deepEqual(servers, [`app-${generation}-0 UP`, `app-${generation}-1 UP`], `${lb}: ${servers.join(", ")}`);
        }
    }

    function assertNoFailures(what: string, run: Pick<FlipRun, "traffic">, minimum = 100): void {
        figures.push(`${what}: ${run.traffic.total} requests, ${run.traffic.failed.length} failed`);
        assert.ok(run.traffic.total >= minimum, `enough traffic to mean something: ${run.traffic.total}`);
        assert.deepEqual(run.traffic.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
    }

    /** Runs `up` and, as soon as its output shows `pattern`, `action` (once); the up waits for the action too. */
    function upWith(stack: Stack, pattern: RegExp, action: () => Promise<void>): Promise<UpResult> {
        let acted: Promise<void> | undefined;
        return stack
            .up({ onOutput: (out) => void (acted ??= pattern.test(out) ? action() : undefined) })
            .finally(() => acted);
    }

    before(async () => {
        p = await scratchProject("e2e");
        // The database at the newest schema from the start: every generation flipped to here works with it (g2 needs 0002).
        await p.setConfig("database", { migration: { version: "0002" } });
        const up = await p.stack.up();
        assert.equal(up.summary.result, "succeeded");
    });
    after(async () => {
        if (figures.length > 0) console.log(`      figures:\n        ${figures.join("\n        ")}`);
        await p?.dispose();
    });

    it("after a flip, a seamless reload, a master-worker reload and a restart of each load balancer in turn, under load: 0 failed, the same servers UP", async () => {
        const flip = await flipUnderTraffic(p.stack, "g2", { traffic: LOAD });
        assert.equal(flip.error, undefined, flip.error?.message);
        assertNoFailures("flip g1 -> g2", flip);
        const before = await members(p.stack);
        assertServing(before, "g2");
        const urls = (await deployedState(p.stack)).loadBalancers.map((lb) => lb.frontendUrl);
        const traffic = new Traffic({ urls, ...LOAD });
        await new Promise((r) => setTimeout(r, 1000));
        for (const lb of ["lb1", "lb2"]) {
            for (const kind of ["seamless", "master", "restart"] as ReloadKind[]) {
                const { before: was, after: now } = await reloadLoadBalancer(lbDir(lb), kind);
                assert.notEqual(was, now, `${lb}: a ${kind} reload starts a new worker`);
                await new Promise((r) => setTimeout(r, 1000));
                assert.deepEqual(await members(p.stack), before, `after a ${kind} reload of ${lb}`);
            }
        }
        const result = await traffic.stop();
        assertNoFailures("6 reloads after the flip", { traffic: result }, 600);
        const preview = await p.stack.preview({ expectNoChanges: true });
        assert.equal(preview.changeSummary.update ?? 0, 0, "nothing to repair: every reload kept the servers");
    });

    it("a reload of a load balancer in the middle of the drain: the flip completes, 0 failed", async () => {
        let reloaded = false;
        const run = await flipUnderTraffic(p.stack, "g3", {
            traffic: { ...LOAD, longRequestMs: 5000 },
            up: (stack) =>
                upWith(stack, /draining: no new sessions/, async () => {
                    await reloadLoadBalancer(lbDir("lb1"), "master");
                    reloaded = true;
                }),
        });
        assert.equal(run.error, undefined, run.error?.message);
        assert.ok(reloaded, "the reload happened during the drain");
        await p.stack.preview({ expectNoChanges: true });
        assertNoFailures("flip g2 -> g3 with a reload mid-drain", run);
        assertServing(await members(p.stack), "g3");
    });

    it("a drain timeout (onTimeout fail) then a rollback: 0 failed, the old generation UP everywhere, nothing left in DRAIN", async () => {
        // A membership keeps the drain settings it was attached with: apply the short timeout to g3 first.
        await p.setConfig("haproxy", { loadBalancers: await deployedConfigLbs(p), attachTimeoutSeconds: 15, drain: { timeoutSeconds: 2, pollIntervalMs: 100 } });
        const applied = await p.stack.up();
        assert.equal(applied.summary.resourceChanges?.update, 1, `g3's membership updated: ${JSON.stringify(applied.summary.resourceChanges)}`);
        const stuck = await flipUnderTraffic(p.stack, "g4", { traffic: { ...LOAD, longRequestMs: 8000, longEveryMs: 1000 } });
        assert.match(stuck.error?.message ?? "", /still \d+ sessions.*after 2000 ms of draining/s);
        assertNoFailures("flip g3 -> g4 stuck in its drain", stuck);
        const stuckMembers = await members(p.stack);
        assert.ok(Object.values(stuckMembers).flat().some((s) => /^app-g3-\d DRAIN$/.test(s)), JSON.stringify(stuckMembers));
        const rollback = await flipUnderTraffic(p.stack, "g3", { traffic: { ...LOAD, longRequestMs: 1000 } });
        assert.equal(rollback.error, undefined, rollback.error?.message);
        assertNoFailures("rollback g4 -> g3 after the stuck drain", rollback);
        const after = await members(p.stack);
        assertServing(after, "g3");
        assert.ok(!Object.values(after).flat().some((s) => s.includes("DRAIN")), JSON.stringify(after));
    });

    it("a load balancer killed for good mid-flip, then forgotten the documented way: pulumi up converges without state edits", async () => {
        await p.setConfig("haproxy", { loadBalancers: await deployedConfigLbs(p), attachTimeoutSeconds: 15, drain: { timeoutSeconds: 5, pollIntervalMs: 100 } });
        let killed = false;
        const run = await flipUnderTraffic(p.stack, "g5", {
            traffic: LOAD,
            trafficThrough: ["lb1"], // clients of a dead load balancer go elsewhere (DNS, VIP): not through it
            up: (stack) =>
                upWith(stack, /draining: no new sessions/, async () => {
                    await killLoadBalancer(lbDir("lb2"));
                    killed = true;
                }),
        });
        assert.ok(killed, "lb2 was killed during the drain");
        assert.match(run.error?.message ?? "", /lb2/, "the update failed on the dead load balancer");
        assertNoFailures("flip g3 -> g5 while lb2 dies (traffic through lb1)", run);
        const [lb1] = await deployedConfigLbs(p);
        await p.setConfig("haproxy", { loadBalancers: [lb1], attachTimeoutSeconds: 15, drain: { timeoutSeconds: 60, pollIntervalMs: 100 } });
        await p.setConfig("forgetLoadBalancers", ["lb2"]);
        const converge = await p.stack.up();
        assert.equal(converge.summary.result, "succeeded");
        assertServing(await members(p.stack), "g5", ["lb1"]);
        await p.stack.preview({ expectNoChanges: true });
    });
});

/** The load balancers of the scratch stack's config (name and frontend port). */
async function deployedConfigLbs(p: ScratchProject): Promise<{ name: string; frontendPort: number }[]> {
    const config = await p.stack.getConfig("haproxy-bluegreen:haproxy");
    return (JSON.parse(config.value) as { loadBalancers: { name: string; frontendPort: number }[] }).loadBalancers;
}
