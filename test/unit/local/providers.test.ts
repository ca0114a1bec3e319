/**
 * `check` and `diff` of the local target's providers, called directly: bad inputs are failures naming
 * the field, preview's unknown values are accepted and compared as changes, and identity fields replace.
 * Neither method touches anything, so no process or file is involved.
 */
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { UNKNOWN } from "../../../src/provider/previewValues";
import loadBalancer, { type LoadBalancerInputs } from "../../../src/targets/local/loadBalancerProvider";
import appServers, { type AppServersInputs, type AppServersOutputs } from "../../../src/targets/local/appServersProvider";
import snapshot, { type SnapshotInputs } from "../../../src/targets/local/snapshotProvider";
import migration, { type MigrationInputs } from "../../../src/targets/local/migrationProvider";
import database, { type DatabaseInputs } from "../../../src/targets/local/databaseProvider";
import type { Connection } from "../../../src/targets/local/postgres";

const LB: LoadBalancerInputs = {
    name: "lb1",
    stateDir: "/var/lib/bluegreen",
    frontendPort: 18080,
    backend: "app",
    healthCheck: { path: "/health", expectedStatus: 200, intervalMs: 500, rise: 2, fall: 2 },
};
const SERVERS: AppServersInputs = {
    names: ["app-g1-0", "app-g1-1"],
    generation: "g1",
    stateDir: "/var/lib/bluegreen",
    database: { host: "127.0.0.1", port: 5432, database: "app", user: "app", password: "a-generated-password-0123" },
    appRef: "v1.0.0",
    env: { GREETING: "hello" },
};
const CONNECTION: Connection = { host: "127.0.0.1", port: 5432, database: "app", user: "app", password: "a-generated-password-0123" };
const SNAPSHOT: SnapshotInputs = { connection: CONNECTION, snapshotsDir: "/var/lib/bluegreen/snapshots", migrationVersion: "0001" };
const MIGRATION: MigrationInputs = { migrationsDir: "/srv/app/migrations", migrationVersion: "0001", connection: CONNECTION };
const DATABASE: DatabaseInputs = { name: "db", stateDir: "/var/lib/bluegreen", port: 0, database: "app", user: "app" };

/** Inputs as the engine passes them back to `diff`: stored outputs, which include the inputs. */
function stored<O>(inputs: object): O {
    return inputs as O;
}

/** The failures of `check`, as `property: reason` lines. */
async function failures<T>(provider: pulumi.dynamic.ResourceProvider<T>, news: T): Promise<string[]> {
    const result = await provider.check?.(news, news);
    assert.ok(result);
    return (result.failures ?? []).map((f) => `${f.property}: ${f.reason}`);
}

/** Asserts exactly one failure, on `property`. */
async function failsOn<T>(provider: pulumi.dynamic.ResourceProvider<T>, news: T, property: string): Promise<void> {
    const found = await failures(provider, news);
    assert.equal(found.length, 1, `expected one failure on ${property}, got ${JSON.stringify(found)}`);
    assert.ok(found[0].startsWith(`${property}: `), found[0]);
    assert.match(found[0], /is not allowed; expected /);
}

describe("local providers: check and diff", () => {
    describe("LoadBalancer", () => {
        it("accepts valid inputs and returns them", async () => {
            assert.deepEqual(await loadBalancer.check?.(LB, LB), { inputs: LB });
        });

        it("names each bad field", async () => {
            await failsOn(loadBalancer, { ...LB, name: "lb 1\n" }, "name");
            await failsOn(loadBalancer, { ...LB, stateDir: "relative/dir" }, "stateDir");
            await failsOn(loadBalancer, { ...LB, stateDir: "/with space" }, "stateDir");
            await failsOn(loadBalancer, { ...LB, stateDir: `/${"d".repeat(100)}` }, "stateDir");
            await failsOn(loadBalancer, { ...LB, frontendPort: 80 }, "frontendPort");
            await failsOn(loadBalancer, { ...LB, backend: "app;x" }, "backend");
            await failsOn(loadBalancer, { ...LB, healthCheck: { ...LB.healthCheck, path: "/h#x" } }, "healthCheck.path");
            await failsOn(loadBalancer, { ...LB, healthCheck: { ...LB.healthCheck, rise: 0 } }, "healthCheck.rise");
        });

        it("reports every bad field at once", async () => {
            assert.equal((await failures(loadBalancer, { ...LB, name: "", frontendPort: 1, backend: "" })).length, 3);
        });

        it("accepts unknown values during preview", async () => {
            const unknown = { ...LB, name: UNKNOWN, stateDir: UNKNOWN, healthCheck: { ...LB.healthCheck, path: UNKNOWN } };
            assert.deepEqual(await failures(loadBalancer, unknown), []);
        });

        it("replaces on any input change, deleting the old one first, and sees unknowns as changes", async () => {
            assert.deepEqual(await loadBalancer.diff?.("id", stored(LB), LB), { changes: false, replaces: [], deleteBeforeReplace: true });
            const changed = await loadBalancer.diff?.("id", stored(LB), { ...LB, healthCheck: { ...LB.healthCheck, rise: 3 }, frontendPort: UNKNOWN as never });
            assert.deepEqual(changed, { changes: true, replaces: ["frontendPort", "healthCheck"], deleteBeforeReplace: true });
        });

        it("compares nested values whatever their key order", async () => {
            const reordered = { ...LB, healthCheck: { fall: 2, rise: 2, intervalMs: 500, expectedStatus: 200, path: "/health" } };
            assert.equal((await loadBalancer.diff?.("id", stored(LB), reordered))?.changes, false);
        });
    });

    describe("AppServers", () => {
        it("accepts valid inputs", async () => {
            assert.deepEqual(await failures(appServers, SERVERS), []);
        });

        it("names each bad field", async () => {
            await failsOn(appServers, { ...SERVERS, names: ["app-g1-0", "app g1"] }, "names[1]");
            await failsOn(appServers, { ...SERVERS, generation: "g 1" }, "generation");
            await failsOn(appServers, { ...SERVERS, database: { ...CONNECTION, port: 0 } }, "database.port");
            await failsOn(appServers, { ...SERVERS, appRef: "v1\nX=1" }, "appRef");
            await failsOn(appServers, { ...SERVERS, env: { "BAD-NAME": "x" } }, "env.BAD-NAME");
            await failsOn(appServers, { ...SERVERS, env: { X: "a\0b" } }, "env.X");
        });

        it("refuses env variables the provider sets itself", async () => {
            for (const reserved of ["PORT", "HEALTH_FILE", "PGPASSWORD", "NODE_PATH"]) {
                await failsOn(appServers, { ...SERVERS, env: { [reserved]: "1" } }, `env.${reserved}`);
            }
        });

        it("replaces on a change of the shared settings; other names are an update", async () => {
            const running = stored<AppServersOutputs>({ ...SERVERS, servers: [] });
            assert.deepEqual(await appServers.diff?.("id", running, { ...SERVERS, appRef: "v2", env: {} }), { changes: true, replaces: ["appRef", "env"] });
            assert.deepEqual(await appServers.diff?.("id", running, { ...SERVERS, names: ["app-g1-0"] }), { changes: true, replaces: [] });
            assert.deepEqual(await appServers.diff?.("id", running, { ...SERVERS }), { changes: false, replaces: [] });
        });
    });

    describe("Snapshot", () => {
        it("names bad fields and never quotes the password", async () => {
            assert.deepEqual(await failures(snapshot, SNAPSHOT), []);
            await failsOn(snapshot, { ...SNAPSHOT, migrationVersion: "../x" }, "migrationVersion");
            await failsOn(snapshot, { ...SNAPSHOT, snapshotsDir: "." }, "snapshotsDir");
            await failsOn(snapshot, { ...SNAPSHOT, connection: { ...CONNECTION, password: "short\nhunter2" } }, "connection.password");
            assert.ok(!(await failures(snapshot, { ...SNAPSHOT, connection: { ...CONNECTION, password: "short\nhunter2" } })).join().includes("hunter2"));
            await failsOn(snapshot, { ...SNAPSHOT, connection: { ...CONNECTION, database: "App; DROP" } }, "connection.database");
            assert.deepEqual(await failures(snapshot, { ...SNAPSHOT, connection: UNKNOWN as unknown as Connection }), []);
        });

        it("replaces when the migration version changes, updates (without a new dump) when only the database moved", async () => {
            assert.deepEqual(await snapshot.diff?.("id", stored(SNAPSHOT), { ...SNAPSHOT, migrationVersion: "0002" }), { changes: true, replaces: ["migrationVersion"] });
            assert.deepEqual(await snapshot.diff?.("id", stored(SNAPSHOT), { ...SNAPSHOT, connection: { ...CONNECTION, port: 5433 } }), { changes: true, replaces: [] });
        });
    });

    describe("Migration", () => {
        it("names bad fields: the version is a migration file's", async () => {
            assert.deepEqual(await failures(migration, MIGRATION), []);
            await failsOn(migration, { ...MIGRATION, migrationVersion: "0002-add" }, "migrationVersion");
            await failsOn(migration, { ...MIGRATION, migrationsDir: "app/migrations" }, "migrationsDir");
        });

        it("updates in place (applying what is pending), never replaces", async () => {
            assert.deepEqual(await migration.diff?.("id", stored(MIGRATION), { ...MIGRATION, migrationVersion: "0002" }), { changes: true });
            assert.deepEqual(await migration.diff?.("id", stored(MIGRATION), MIGRATION), { changes: false });
        });
    });

    describe("Database", () => {
        it("names bad fields", async () => {
            assert.deepEqual(await failures(database, DATABASE), []);
            await failsOn(database, { ...DATABASE, port: 80 }, "port");
            await failsOn(database, { ...DATABASE, database: "App" }, "database");
            await failsOn(database, { ...DATABASE, user: "a-b" }, "user");
            await failsOn(database, { ...DATABASE, stateDir: "state" }, "stateDir");
        });

        it("replaces on any input change; a stopped server is an update (started again)", async () => {
            const running = { ...DATABASE, pid: process.pid, marker: "not-our-marker" };
            assert.deepEqual(await database.diff?.("id", stored(running), { ...DATABASE, port: 15432 }), { changes: true, replaces: ["port"] });
            assert.deepEqual(await database.diff?.("id", stored(running), DATABASE), { changes: true }, "no process carries the marker");
        });
    });
});
