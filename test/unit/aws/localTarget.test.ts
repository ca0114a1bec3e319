/**
 * The local target (the embedded default) must never register an AWS resource. Under strict mocks that
 * know only the local target's own types and the deployment's, an AWS resource makes the program fail
 * with `Mock not implemented: aws:...`.
 */
import * as assert from "node:assert/strict";
import { inputsAsOutputs, programDone, restoreRuntime, useStrictMocks, type MockOutputs } from "../../support/mocks";
import { COMPONENT_TYPES, TYPES } from "./program";

/** The local stack's config (Pulumi.local.yaml) as `pulumi.Config.getObject` returns it. */
function rawLocalConfig(): Record<string, unknown> {
    return {
        generation: "g1",
        target: "local",
        pool: { size: 2, namePrefix: "app", spec: { appRef: "v1.0.0", inputs: { GREETING: "hello" } }, generations: { g2: { appRef: "v1.1.0" } } },
        healthCheck: { path: "/health", expectedStatus: 200, timeoutSeconds: 60, intervalMs: 200, rise: 2, fall: 2 },
        haproxy: {
            backend: "app",
            loadBalancers: [
                { name: "lb1", frontendPort: 18080 },
                { name: "lb2", frontendPort: 18081 },
            ],
            attachTimeoutSeconds: 30,
            drain: { method: "drain", timeoutSeconds: 120, onTimeout: "fail", pollIntervalMs: 100 },
        },
        database: { volume: "db", migration: { version: "0001", command: ["node", "-r", "ts-node/register/transpile-only", "app/migrate.ts", "0001"] } },
    };
}

/** What the local target's providers would compute, from their inputs. */
const LOCAL_OUTPUTS: Record<string, MockOutputs> = {
    "pulumi-nodejs:dynamic/local:LoadBalancer": ({ inputs }) => ({
        ...inputs,
        endpoint: `unix://${inputs.stateDir}/lb/${inputs.name}/admin.sock`,
        pid: inputs.name === "lb1" ? 4101 : 4102,
        serversFile: `${inputs.stateDir}/lb/${inputs.name}/servers/${inputs.backend}.cfg`,
        backendDefaults: `backend-${inputs.backend}`,
        frontendUrl: `http://127.0.0.1:${inputs.frontendPort}/`,
    }),
    "pulumi-nodejs:dynamic/local:AppServer": ({ inputs }) => ({
        ...inputs,
        address: "127.0.0.1",
        port: 20000 + Number(String(inputs.name).slice(-1)),
        healthFile: `${inputs.stateDir}/servers/${inputs.name}/health-check`,
    }),
    "pulumi-nodejs:dynamic/local:Snapshot": ({ inputs }) => ({ ...inputs, snapshotId: `${inputs.migrationVersion}-snapshot` }),
    "pulumi-nodejs:dynamic/local:Command": ({ inputs }) => ({ ...inputs, stdout: "", exitCode: 0 }),
    [TYPES.membership]: inputsAsOutputs,
    [TYPES.gate]: inputsAsOutputs,
};

describe("local target under strict mocks", function () {
    after(restoreRuntime);

    it("registers no aws:* resource, and builds the whole deployment", async function () {
        const recorder = await useStrictMocks({ customs: LOCAL_OUTPUTS, components: COMPONENT_TYPES, stack: "local" });
        const { parseDeploymentConfig } = await import("../../../program/config");
        const { BlueGreenDeployment } = await import("../../../src/deployment");
        const { deploymentSettings, targetFor } = await import("../../../program/targets");
        const config = parseDeploymentConfig(rawLocalConfig());
        new BlueGreenDeployment("site", { ...deploymentSettings(config), target: targetFor(config, "site") });
        await programDone(recorder);
        assert.deepEqual(recorder.ofType(TYPES.membership).map((r) => r.name).sort(), ["site-member-g1-0", "site-member-g1-1"]);
        assert.deepEqual(recorder.ofType(TYPES.gate).map((r) => r.name).sort(), ["site-pool-g1-gate", "site-smoke-g1"]);
        const { stateDir } = recorder.byName("site-lb-lb1").inputs;
        assert.deepEqual(recorder.byName("site-member-g1-0").inputs.loadBalancers, [
            { name: "lb1", endpoint: `unix://${stateDir}/lb/lb1/admin.sock`, serversFile: `${stateDir}/lb/lb1/servers/app.cfg`, backendDefaults: "backend-app" },
            { name: "lb2", endpoint: `unix://${stateDir}/lb/lb2/admin.sock`, serversFile: `${stateDir}/lb/lb2/servers/app.cfg`, backendDefaults: "backend-app" },
        ]);
    });
});
