/**
 * Instant rollback with a warm standby: with `pool.standby`, the generation a flip leaves keeps running
 * detached, and flipping back re-attaches it without provisioning (real engine, HAProxy, processes).
 */
import * as assert from "node:assert/strict";
import { deployedState, flipUnderTraffic, membershipOf } from "../../scripts/lib/flip";
import { httpGet } from "../../lab/localProcesses";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";

const serverPorts = async (p: ScratchProject) => ((await p.stack.outputs()).servers.value as { port: number }[]).map((s) => s.port);

describe("end to end: rollback to a warm standby", function () {
    this.timeout(600_000);
    let p: ScratchProject;

    before(async () => {
        p = await scratchProject("standby");
        await p.setConfig("pool", { size: 2, namePrefix: "app", standby: true, spec: { appRef: "v1.0.0" }, generations: { g2: { appRef: "v1.1.0" } } });
        await p.stack.up();
    });
    after(async () => p?.dispose());

    it("flips g1 -> g2 and back to g1 under load with zero failed requests, creating no g1 server on the way back", async () => {
        const g1Ports = await serverPorts(p);
        const forward = await flipUnderTraffic(p.stack, "g2");
        assert.equal(forward.error, undefined, forward.error?.message);
        assert.deepEqual(forward.traffic.failed, []);
        const outputs = await p.stack.outputs();
        assert.equal(outputs.standbyGeneration.value, "g1");
        assert.equal(outputs.previousGeneration.value, "g1");
        for (const port of g1Ports) {
            const r = await httpGet(`http://127.0.0.1:${port}/`, 2000);
            assert.equal(JSON.parse(r.body).generation, "g1", "the standby g1 server still runs");
        }
        const state = await deployedState(p.stack);
        for (const lb of await membershipOf(state.loadBalancers, state.backend)) {
            assert.ok(lb.servers.every((s) => s.name.startsWith("app-g2-")), `${lb.lb}: g1 is detached`);
        }

        const back = await flipUnderTraffic(p.stack, "g1");
        assert.equal(back.error, undefined, back.error?.message);
        assert.deepEqual(back.traffic.failed, []);
        assert.ok(back.traffic.total > 100);
        assert.equal(back.phases.create, undefined, "no server was created");
        assert.deepEqual((await serverPorts(p)).sort(), [...g1Ports].sort(), "the same g1 servers serve again");
        for (const lb of await membershipOf(state.loadBalancers, state.backend)) {
            assert.deepEqual(lb.servers.map((s) => `${s.name} ${s.status}`).sort(), ["app-g1-0 UP", "app-g1-1 UP"]);
        }
        assert.equal((await p.stack.outputs()).standbyGeneration.value, "g2");
    });
});
