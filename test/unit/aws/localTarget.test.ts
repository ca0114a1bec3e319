/**
 * The local target (the embedded default) must never register an AWS resource. Under strict mocks that
 * know only the local target's own types and the deployment's, an AWS resource makes the program fail
 * with `Mock not implemented: aws:...`.
 */
import * as assert from "node:assert/strict";
import { inputsAsOutputs, isSecretInput, programDone, restoreRuntime, useStrictMocks, type MockOutputs } from "../../support/mocks";
import { TYPES as LOCAL } from "../../../src/names";
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
        database: { migration: { version: "0001" } },
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
    [LOCAL.localAppServers]: ({ inputs }) => ({
        ...inputs,
        servers: (inputs.names as string[]).map((name, i) => ({ name, address: "127.0.0.1", port: 20000 + i, healthFile: `${inputs.stateDir}/servers/${name}/health-check` })),
    }),
    "pulumi-nodejs:dynamic/local:Snapshot": ({ inputs }) => ({ ...inputs, snapshotId: `${inputs.migrationVersion}-snapshot` }),
    [LOCAL.localMigration]: ({ inputs }) => ({ ...inputs, applied: [], schemaVersions: [inputs.migrationVersion] }),
    [LOCAL.localDatabase]: ({ inputs }) => ({ ...inputs, host: "127.0.0.1", listenPort: 45432, password: "generated-password-0123456789", pid: 4200 }),
    [TYPES.poolMembership]: inputsAsOutputs,
    [TYPES.gate]: inputsAsOutputs,
    [TYPES.frozenGenerations]: inputsAsOutputs,
    [TYPES.orphanSweep]: inputsAsOutputs,
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
        assert.deepEqual(recorder.ofType(TYPES.poolMembership).map((r) => r.name), ["site-members-g1"]);
        assert.deepEqual(recorder.ofType(TYPES.orphanSweep), [], "a deployment without a history sweeps nothing");
        // One PostgreSQL, a child of the deployment (not of a version-scoped component); its password reaches
        // the snapshot, the migration and the servers only as a secret.
        const [db] = recorder.ofType(LOCAL.localDatabase);
        assert.equal(db.name, "site-db");
        assert.match(db.parent, /BlueGreenDeployment::site$/);
        assert.deepEqual(recorder.byName("site-pool-g1-servers").inputs.names, ["app-g1-0", "app-g1-1"]);
        for (const r of [recorder.byName("site-snapshot-0001-volume"), recorder.byName("site-migration-0001-run"), recorder.byName("site-pool-g1-servers")]) {
            assert.ok(isSecretInput(r.inputs[r.type === LOCAL.localAppServers ? "database" : "connection"]), `${r.name}: the connection is a secret`);
            assert.ok(recorder.dependsOn(r, db), `${r.name} waits for the database`);
        }
        assert.ok(recorder.dependsOn(recorder.byName("site-migration-0001-run"), recorder.byName("site-snapshot-0001-volume")));
        assert.deepEqual(recorder.ofType(TYPES.gate).map((r) => r.name).sort(), ["site-pool-g1-gate", "site-smoke-g1"]);
        const { stateDir } = recorder.byName("site-lb-lb1").inputs;
        const membership = recorder.byName("site-members-g1").inputs;
        assert.deepEqual(membership.servers, [
            { server: "app-g1-0", address: "127.0.0.1", port: 20000 },
            { server: "app-g1-1", address: "127.0.0.1", port: 20001 },
        ]);
        assert.deepEqual(membership.loadBalancers, [
            { name: "lb1", endpoint: `unix://${stateDir}/lb/lb1/admin.sock`, serversFile: `${stateDir}/lb/lb1/servers/app.cfg`, backendDefaults: "backend-app" },
            { name: "lb2", endpoint: `unix://${stateDir}/lb/lb2/admin.sock`, serversFile: `${stateDir}/lb/lb2/servers/app.cfg`, backendDefaults: "backend-app" },
        ]);
    });

    it("the healthcheck drain method: the pool membership lists each server with its health-check file", async function () {
        const recorder = await useStrictMocks({ customs: LOCAL_OUTPUTS, components: COMPONENT_TYPES, stack: "local" });
        const { parseDeploymentConfig } = await import("../../../program/config");
        const { BlueGreenDeployment } = await import("../../../src/deployment");
        const { deploymentSettings, targetFor } = await import("../../../program/targets");
        const raw = rawLocalConfig() as { haproxy: { drain: Record<string, unknown> } };
        const config = parseDeploymentConfig({ ...raw, haproxy: { ...raw.haproxy, drain: { ...raw.haproxy.drain, method: "healthcheck" } } });
        new BlueGreenDeployment("site", { ...deploymentSettings(config), target: targetFor(config, "site") });
        await programDone(recorder);
        const { servers, drain } = recorder.byName("site-members-g1").inputs as { servers: { server: string; healthFile: string }[]; drain: { method: string } };
        assert.equal(drain.method, "healthcheck");
        assert.deepEqual(servers.map((s) => s.server), ["app-g1-0", "app-g1-1"]);
        for (const s of servers) assert.match(s.healthFile, new RegExp(`^file:///.*${s.server}/health-check$`));
    });
});
