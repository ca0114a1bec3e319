/** The plan, read without mocks: what each generation needs, and the defaults. */
import * as assert from "node:assert/strict";
import { planDeployment, planPool, specForGeneration, type DeploymentSettings } from "../../../src/plan";
import { canaryBatches } from "../../../src/pool/canary";
import { DEFAULTS } from "../../../src/defaults";

const SETTINGS: DeploymentSettings = {
    generation: "g2",
    migrationVersion: "0002",
    pool: { size: 3, canarySize: 1, spec: { appRef: "v1", inputs: { A: "1", B: "1" } }, generations: { g2: { appRef: "v2", inputs: { B: "2" } } } },
    healthCheck: { path: "/ready", intervalMs: 500 },
    haproxy: { serverOptions: { maxconn: 64 }, generations: { g2: { serverOptions: { cookie: true } } }, drain: { quietPeriodMs: 5000 }, adopt: ["web1"] },
};

describe("plan", () => {
    it("names every child and says what the serving generation needs", () => {
        const plan = planDeployment("site", SETTINGS);
        assert.equal(plan.snapshotName, "site-snapshot-0002");
        assert.equal(plan.migrationName, "site-migration-0002");
        assert.equal(plan.active.name, "site-pool-g2");
        assert.deepEqual(plan.active.servers.map((s) => [s.resourceName, s.serverName]), [
            ["site-pool-g2-0", "app-g2-0"],
            ["site-pool-g2-1", "app-g2-1"],
            ["site-pool-g2-2", "app-g2-2"],
        ]);
        assert.deepEqual(plan.active.servers[0].spec, { appRef: "v2", inputs: { A: "1", B: "2" } });
        assert.deepEqual(plan.active.batches, [[0], [1, 2]]);
        assert.equal(plan.active.canaryGateName, "site-pool-g2-canary-gate");
        assert.deepEqual(plan.active.gate, { expectedStatus: 200, timeoutMs: 120_000, intervalMs: 500, consecutive: 2 });
        assert.equal(plan.membershipName, "site-members-g2");
        assert.deepEqual(plan.membership, {
            backend: "app",
            check: { enabled: true, inter: 500, rise: 2, fall: 2 },
            options: { maxconn: 64, cookie: true },
            attachTimeoutMs: 60_000,
            detachTimeoutMs: 30_000,
            drain: { ...DEFAULTS.membership.drain, quietPeriodMs: 5000 },
            runtimeOnly: false,
        });
        assert.equal(plan.smokeName, "site-smoke-g2");
        assert.deepEqual(plan.smoke, { path: "/ready", expectedStatus: 200, timeoutMs: 120_000, intervalMs: 500 });
        assert.deepEqual(plan.adoption, { name: "site-adopted", servers: ["web1"] });
        assert.equal(plan.standby, undefined);
    });

    it("plans a warm standby's pool, never the serving generation twice", () => {
        assert.equal(planDeployment("site", SETTINGS, "g1").standby?.name, "site-pool-g1");
        assert.deepEqual(planDeployment("site", SETTINGS, "g1").standby?.servers[0].spec, { appRef: "v1", inputs: { A: "1", B: "1" } });
        assert.equal(planDeployment("site", SETTINGS, "g2").standby, undefined);
    });

    it("defaults: app prefix, port 8080, no canaries, /health", () => {
        const pool = planPool("p", "g1", { size: 2 });
        assert.deepEqual([pool.port, pool.healthCheckPath, pool.batches, pool.canaryGateName], [8080, "/health", [[0, 1]], undefined]);
        assert.deepEqual(specForGeneration({}, "g1"), { inputs: {} });
        assert.deepEqual(canaryBatches(3, 0), [[0, 1, 2]]);
    });
});
