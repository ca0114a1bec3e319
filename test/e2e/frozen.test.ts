/**
 * End to end, through the real engine, HAProxy, app processes and PostgreSQL, under load (100 requests/s
 * plus long requests): what a serving generation is built from cannot change under it (FrozenGenerations),
 * a protected deployment still flips, and an old generation is drained with today's settings.
 */
import * as assert from "node:assert/strict";
import { deployedState, flipUnderTraffic } from "../../scripts/lib/flip";
import { RuntimeClient } from "../../src/haproxy/runtime/client";
import { Traffic, type TrafficResult } from "../../scripts/lib/traffic";
import { TYPES } from "../../src/names";
import { httpGet } from "../../lab/localProcesses";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";

const RATE = { ratePerSecond: 100 };
const g1Pool = { size: 2, namePrefix: "app", spec: { appRef: "v1.0.0", inputs: { GREETING: "hello" } } };

/** `<server> <status> <address>` per load balancer, from HAProxy itself. */
async function membersByLb(p: ScratchProject): Promise<Record<string, string[]>> {
    const state = await deployedState(p.stack);
    return Object.fromEntries(
        await Promise.all(
            state.loadBalancers.map(async (lb) => {
                const client = new RuntimeClient(lb.endpoint);
                try {
                    const rows = (await client.showStat(state.backend)).filter((r) => r.svname !== "BACKEND" && r.svname !== "FRONTEND");
                    return [lb.name, rows.map((r) => `${r.svname} ${r.status} ${r.addr}`).sort()] as const;
                } finally {
                    await client.close();
                }
            }),
        ),
    );
}

function assertNoFailures(result: TrafficResult): void {
    assert.ok(result.total > 100, `enough traffic to mean something: ${result.total}`);
    assert.deepEqual(result.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
}

/** The error of `run`, which must fail. */
async function failure(run: () => Promise<unknown>): Promise<string> {
    try {
        await run();
    } catch (err) {
        return (err as Error).message;
    }
    assert.fail("expected the command to fail");
}

describe("end to end: frozen generations and a protected deployment", function () {
    this.timeout(600_000);
    let p: ScratchProject;

    before(async () => {
        p = await scratchProject("frozen");
        await p.setConfig("pool", g1Pool);
        await p.setConfig("protect", true);
        const up = await p.stack.up();
        assert.equal(up.summary.result, "succeeded");
    });
    after(async () => p?.dispose());

    it("a shared-spec change without a new generation: preview and up fail naming the field, nothing changes, 0 failed requests", async () => {
        const before = await membersByLb(p);
        const state = await deployedState(p.stack);
        const traffic = new Traffic({ urls: state.loadBalancers.map((lb) => lb.frontendUrl), ...RATE });
        await p.setConfig("pool", { ...g1Pool, spec: { ...g1Pool.spec, inputs: { GREETING: "hi" } } });
        const previewError = await failure(() => p.stack.preview());
        assert.match(previewError, /generation g1 serves or is remembered for a rollback/);
        assert.match(previewError, /inputs\.GREETING \(pool\.spec\.inputs\.GREETING or pool\.generations\.g1\.inputs\.GREETING\)/);
        assert.match(previewError, /set `generation` to a new label/);
        assert.doesNotMatch(previewError, /"hi"|"hello"/, "input values are not shown");
        const upError = await failure(() => p.stack.up());
        assert.match(upError, /inputs\.GREETING/);
        await new Promise((r) => setTimeout(r, 1500));
        assertNoFailures(await traffic.stop());
        assert.deepEqual(await membersByLb(p), before, "the same g1 servers, at the same addresses, serve on both load balancers");
    });

    it("the same change as a new generation flips under load on the protected deployment: 0 failed requests, only g2 remains", async () => {
        const run = await flipUnderTraffic(p.stack, "g2", { traffic: RATE });
        assert.equal(run.error, undefined, run.error?.message);
        assertNoFailures(run.traffic);
        for (const [lb, servers] of Object.entries(await membersByLb(p))) {
            assert.deepEqual(servers.map((s) => s.split(" ").slice(0, 2).join(" ")), ["app-g2-0 UP", "app-g2-1 UP"], lb);
        }
        const resources = (await p.stack.exportStack()).deployment.resources as { type: string; protect?: boolean }[];
        assert.equal(resources.find((r) => r.type === TYPES.protectionGuard)?.protect, true, "the guard is protected");
        assert.ok(resources.filter((r) => r.type === TYPES.poolMembership).every((r) => !r.protect), "memberships are not protected");
    });

    it("pulumi destroy of the protected deployment stops at the guard and deletes nothing: 0 failed requests", async () => {
        const before = await membersByLb(p);
        const state = await deployedState(p.stack);
        const traffic = new Traffic({ urls: state.loadBalancers.map((lb) => lb.frontendUrl), ...RATE });
        await new Promise((r) => setTimeout(r, 1000));
        const refused = await failure(() => p.stack.destroy());
        assert.match(refused, /site-protected.*cannot be deleted[\s\S]*protected/);
        await new Promise((r) => setTimeout(r, 1500));
        assertNoFailures(await traffic.stop());
        assert.deepEqual(await membersByLb(p), before, "every server still serves");
        const preview = await p.stack.preview({ expectNoChanges: true });
        assert.equal(preview.changeSummary.create ?? 0, 0, "nothing was deleted");
    });

    it("a rollback to g1 with the shared spec moved on is refused; with g1's settings under pool.generations.g1 it rolls back, 0 failed requests", async () => {
        await p.stack.setConfig("generation", { value: "g1" });
        const refused = await failure(() => p.stack.preview());
        assert.match(refused, /generation g1 serves or is remembered[\s\S]*inputs\.GREETING/);
        await p.setConfig("pool", { ...g1Pool, spec: { ...g1Pool.spec, inputs: { GREETING: "hi" } }, generations: { g1: { inputs: { GREETING: "hello" } } } });
        const run = await flipUnderTraffic(p.stack, "g1", { traffic: RATE });
        assert.equal(run.error, undefined, run.error?.message);
        assertNoFailures(run.traffic);
        for (const [lb, servers] of Object.entries(await membersByLb(p))) {
            assert.deepEqual(servers.map((s) => s.split(" ").slice(0, 2).join(" ")), ["app-g1-0 UP", "app-g1-1 UP"], lb);
        }
        const preview = await p.stack.preview({ expectNoChanges: true });
        assert.equal(preview.changeSummary.update ?? 0, 0);
    });

    it("an old generation drains with today's settings: a shorter timeout reaches it, then `onTimeout: force` ends its drain", async () => {
        // g1 was attached with a 60 s drain timeout that fails at its end (the e2e config); today's is 2 s.
        const haproxy = JSON.parse((await p.stack.getConfig("haproxy-bluegreen:haproxy")).value) as Record<string, unknown>;
        await p.setConfig("haproxy", { ...haproxy, drain: { timeoutSeconds: 2, pollIntervalMs: 100 } });
        const state = await deployedState(p.stack);
        // A session on g1 that outlasts every timeout here (the only generation serving when it starts).
        const heldSince = Date.now();
        const held = httpGet(`${state.loadBalancers[0].frontendUrl.replace(/\/$/, "")}/slow?ms=60000`).then(
            (r) => `answered ${r.status}`,
            (err: Error) => `cut: ${err.message}`,
        );
        await new Promise((r) => setTimeout(r, 500));
        const stuck = await flipUnderTraffic(p.stack, "g3", { traffic: RATE });
        assert.match(stuck.error?.message ?? "", /after 2000 ms of draining/, "the delete of g1 used today's 2 s timeout, not its stored 60 s");
        assertNoFailures(stuck.traffic);
        await p.setConfig("haproxy", { ...haproxy, drain: { timeoutSeconds: 2, pollIntervalMs: 100, onTimeout: "force" } });
        const startedAt = Date.now();
        const forced = await p.stack.up();
        assert.equal(forced.summary.result, "succeeded");
        assert.ok(Date.now() - startedAt < 50_000, "the up did not wait for the held session");
        const outcome = await held;
        console.log(`      held session: ${outcome} after ${Date.now() - heldSince} ms`);
        assert.ok(Date.now() - heldSince < 55_000, `the held session ended before its 60 s: ${outcome}`);
        assert.doesNotMatch(outcome, /^answered 200/, "the held session on g1 was shut by the forced drain, not answered");
        for (const [lb, servers] of Object.entries(await membersByLb(p))) {
            assert.deepEqual(servers.map((s) => s.split(" ").slice(0, 2).join(" ")), ["app-g3-0 UP", "app-g3-1 UP"], lb);
        }
    });
});
