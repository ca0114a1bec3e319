/**
 * Upgrading a stack made by 0.1 (one Membership and one local app server resource per server) to
 * today's code, through the real engine: a plain `pulumi up` changes nothing (the serving generation
 * keeps its per-server resources); a first flip that fails, then the rollback, find the old generation
 * as it is; and the next flip moves to one resource per generation under traffic with zero failed
 * requests. The 0.1 program is taken from git (`git archive`).
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { PROJECT_ROOT } from "../../lab/engine";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";
import { deployedState, flipUnderTraffic, membershipOf } from "../../scripts/lib/flip";
import { TYPES } from "../../src/names";

/** The last commit of 0.1's layout: one resource per server. */
const RELEASE_0_1 = "14b38a9";
/** The program's files that differ between releases. */
const CODE = ["index.ts", "src", "program", "app"];

/** Replaces the scratch project's code with `commit`'s, or with the checkout's (no commit). */
function useCode(dir: string, commit?: string): void {
    for (const file of CODE) rmSync(join(dir, file), { recursive: true, force: true });
    if (commit === undefined) {
        for (const file of CODE) cpSync(join(PROJECT_ROOT, file), join(dir, file), { recursive: true });
        return;
    }
    try {
        execFileSync("bash", ["-c", `git -C "$1" archive "$2" ${CODE.join(" ")} | tar -x -C "$3"`, "archive", PROJECT_ROOT, commit, dir], { stdio: "pipe" });
    } catch (err) {
        throw new Error(`this test needs the git history of the checkout (commit ${commit}, 0.1's layout): ${(err as Error).message}`);
    }
}

/** `type name` of every custom resource of the stack that carries out a server or membership step. */
async function serverResources(p: ScratchProject): Promise<string[]> {
    const state = await p.stack.exportStack();
    const resources = (state.deployment as { resources: { type: string; urn: string }[] }).resources;
    const wanted: string[] = [TYPES.membership, TYPES.poolMembership, TYPES.localAppServer, TYPES.localAppServers];
    return resources.filter((r) => wanted.includes(r.type)).map((r) => `${r.type.split(":").pop()} ${r.urn.split("::").pop()}`).sort();
}

/** Only `generation`'s servers are in the backend of every load balancer, all UP. */
async function assertServing(p: ScratchProject, generation: string): Promise<void> {
    const state = await deployedState(p.stack);
    for (const lb of await membershipOf(state.loadBalancers, state.backend)) {
        assert.deepEqual(lb.servers.map((s) => `${s.name} ${s.status}`).sort(), [`app-${generation}-0 UP`, `app-${generation}-1 UP`], lb.lb);
    }
}

describe("end to end: upgrading a stack made by 0.1 (one resource per server)", function () {
    this.timeout(600_000);
    let p: ScratchProject;

    before(async () => {
        p = await scratchProject("upgrade");
        await p.setConfig("pool", { size: 2, namePrefix: "app", spec: { appRef: "v1.0.0" }, generations: { g2: { appRef: "v1.1.0" } } });
        useCode(p.dir, RELEASE_0_1);
        await p.stack.up();
        useCode(p.dir);
    });
    after(async () => p?.dispose());

    it("a plain pulumi up after the upgrade changes nothing but recording g1's build: g1 keeps its per-server resources", async () => {
        const before = await serverResources(p);
        assert.deepEqual(before, ["AppServer site-pool-g1-0", "AppServer site-pool-g1-1", "Membership site-member-g1-0", "Membership site-member-g1-1"]);
        const changed: string[] = [];
        const onEvent = (e: EngineEvent) => {
            const m = e.resourcePreEvent?.metadata;
            if (m && m.op !== "same" && m.op !== "read" && m.type !== "pulumi:providers:pulumi-nodejs") changed.push(`${m.op} ${m.type}`);
        };
        await p.stack.preview({ onEvent });
        assert.deepEqual(changed, [`create ${TYPES.frozenGenerations}`], "the only change: the record of what g1 was built from");
        const up = await p.stack.up();
        assert.deepEqual(up.summary.resourceChanges?.create ?? 0, 1);
        assert.deepEqual(up.summary.resourceChanges?.delete ?? 0, 0);
        await p.stack.preview({ expectNoChanges: true });
        assert.deepEqual(up.outputs.perServerGenerations.value, ["g1"]);
        assert.deepEqual(await serverResources(p), before);
    });

    it("a first flip that fails its health gate, then the rollback: g1 is found as it is, per server, and serves throughout", async () => {
        await p.setConfig("pool", { size: 2, namePrefix: "app", spec: { appRef: "v1.0.0" }, generations: { g2: { appRef: "v1.1.0", inputs: { APP_FAIL_HEALTH: "1" } } } });
        const failed = await flipUnderTraffic(p.stack, "g2");
        assert.match(failed.error?.message ?? "", /health gate failed for 2 of 2/);
        assert.deepEqual(failed.traffic.failed, []);
        const rollback = await flipUnderTraffic(p.stack, "g1");
        assert.equal(rollback.error, undefined, rollback.error?.message);
        assert.deepEqual(rollback.traffic.failed, []);
        assert.deepEqual(await serverResources(p), ["AppServer site-pool-g1-0", "AppServer site-pool-g1-1", "Membership site-member-g1-0", "Membership site-member-g1-1"]);
        await assertServing(p, "g1");
        await p.setConfig("pool", { size: 2, namePrefix: "app", spec: { appRef: "v1.0.0" }, generations: { g2: { appRef: "v1.1.0" } } });
    });

    it("the next flip moves to one resource per generation under traffic: 0 failed, g2 UP everywhere, g1 gone", async () => {
        const run = await flipUnderTraffic(p.stack, "g2");
        assert.equal(run.error, undefined, run.error?.message);
        assert.deepEqual(run.traffic.failed, []);
        assert.ok(run.traffic.total > 100);
        assert.deepEqual(await serverResources(p), ["AppServers site-pool-g2-servers", "PoolMembership site-members-g2"]);
        await assertServing(p, "g2");
        assert.deepEqual((await p.stack.outputs()).perServerGenerations.value, ["g1"], "g1 stays per server while it is the rollback target");
        await p.stack.preview({ expectNoChanges: true });
    });
});
