/**
 * One table of defaults (src/defaults.ts): the stack config's schema, the plan, a Membership and a
 * HealthGate fill in the same values, so a setting left out means the same thing wherever it is read.
 */
import * as assert from "node:assert/strict";
import { parseDeploymentConfig } from "../../../program/config";
import { deploymentSettings } from "../../../program/targets";
import { DEFAULTS } from "../../../src/defaults";
import { resolveMembershipSpec } from "../../../src/haproxy/membershipSpec";
import { TYPES } from "../../../src/names";
import { planDeployment, resolveHealthCheck, type DeploymentSettings } from "../../../src/plan";
import { inputsAsOutputs, programDone, restoreRuntime, useStrictMocks } from "../../support/mocks";
import { rawAwsConfig } from "../aws/program";

/** The smallest local stack config: every other key takes its default. */
const MINIMAL_CONFIG = { generation: "g1", haproxy: { loadBalancers: [{ name: "lb1", frontendPort: 18080 }] }, database: { migration: { version: "0001" } } };

describe("defaults", () => {
    after(restoreRuntime);

    it("are frozen", () => {
        assert.throws(() => ((DEFAULTS.membership.drain as { timeoutMs: number }).timeoutMs = 1), TypeError);
        assert.ok(Object.isFrozen(DEFAULTS.healthCheck) && Object.isFrozen(DEFAULTS.membership.check));
    });

    it("the stack config's schema fills in the table's values (seconds as ms)", () => {
        const config = parseDeploymentConfig(MINIMAL_CONFIG);
        const settings = deploymentSettings(config);
        assert.deepEqual(settings.healthCheck, DEFAULTS.healthCheck);
        const { size, standby, ...pool } = DEFAULTS.pool;
        assert.deepEqual({ namePrefix: settings.pool.namePrefix, port: settings.pool.port, canarySize: settings.pool.canarySize }, pool);
        assert.deepEqual([settings.pool.size, config.pool.standby], [size, standby]);
        const { backend, attachTimeoutMs, drain, runtimeOnly } = DEFAULTS.membership;
        const haproxy = settings.haproxy ?? {};
        assert.deepEqual([haproxy.backend, haproxy.attachTimeoutMs, haproxy.drain, haproxy.runtimeOnly], [backend, attachTimeoutMs, drain, runtimeOnly]);
        assert.deepEqual([config.target, config.protect, config.sshAllowUnknownHostKeys], [DEFAULTS.stack.target, DEFAULTS.stack.protect, DEFAULTS.stack.sshAllowUnknownHostKeys]);
        const aws = rawAwsConfig() as { aws: Record<string, unknown> };
        delete aws.aws.databaseUser;
        assert.equal(parseDeploymentConfig(aws).aws?.databaseUser, DEFAULTS.aws.databaseUser);
    });

    it("a config that leaves everything out plans what settings that leave everything out plan", () => {
        const settings = deploymentSettings(parseDeploymentConfig(MINIMAL_CONFIG));
        const bare: DeploymentSettings = { generation: settings.generation, migrationVersion: settings.migrationVersion, pool: { size: settings.pool.size } };
        assert.deepEqual(planDeployment("site", settings), planDeployment("site", bare));
    });

    it("a Membership left without settings gets a deployment's", () => {
        const plan = planDeployment("site", { generation: "g1", migrationVersion: "0001", pool: { size: 1 } }).membership;
        const spec = resolveMembershipSpec({
            loadBalancers: [{ name: "lb1", endpoint: "unix:///run/haproxy/admin.sock", serversFile: "/etc/haproxy/bluegreen/app.cfg" }],
            backend: plan.backend,
            server: "app-g1-0",
            address: "10.0.0.1",
            port: DEFAULTS.pool.port,
        });
        assert.deepEqual([spec.attachTimeoutMs, spec.drain, Boolean(spec.runtimeOnly)], [plan.attachTimeoutMs, plan.drain, plan.runtimeOnly]);
        assert.deepEqual([spec.weight, spec.check], [DEFAULTS.membership.weight, DEFAULTS.membership.check]);
    });

    it("a HealthGate left without settings waits as the health check does", async () => {
        const recorder = await useStrictMocks({ customs: { [TYPES.healthGate]: inputsAsOutputs }, components: [] });
        const { HealthGate } = await import("../../../src/gate/healthGate");
        new HealthGate("gate", { targets: [{ name: "app-g1-0", url: "http://127.0.0.1:8080/health" }] });
        await programDone(recorder);
        const { expectedStatus, timeoutMs, intervalMs, consecutive } = recorder.byName("gate").inputs;
        const hc = resolveHealthCheck();
        assert.deepEqual({ expectedStatus, timeoutMs, intervalMs }, { expectedStatus: hc.expectedStatus, timeoutMs: hc.timeoutMs, intervalMs: hc.intervalMs });
        assert.equal(consecutive, DEFAULTS.gate.consecutive);
    });
});
