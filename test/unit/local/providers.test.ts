/**
 * `check` and `diff` of the local target's providers, called directly: bad inputs are failures naming
 * the field, preview's unknown values are accepted and compared as changes, and identity fields replace.
 * Neither method touches anything, so no process or file is involved.
 */
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { UNKNOWN } from "../../../src/provider/previewValues";
import loadBalancer, { type LoadBalancerInputs } from "../../../src/targets/local/loadBalancerProvider";
import appServer, { type AppServerInputs } from "../../../src/targets/local/appServerProvider";
import snapshot, { type SnapshotInputs } from "../../../src/targets/local/snapshotProvider";
import command, { type CommandInputs } from "../../../src/targets/local/commandProvider";

const LB: LoadBalancerInputs = {
    name: "lb1",
    stateDir: "/var/lib/bluegreen",
    frontendPort: 18080,
    backend: "app",
    healthCheck: { path: "/health", expectedStatus: 200, intervalMs: 500, rise: 2, fall: 2 },
};
const SERVER: AppServerInputs = {
    name: "app-g1-0",
    generation: "g1",
    stateDir: "/var/lib/bluegreen",
    databasePath: "/var/lib/bluegreen/volume/database.json",
    appRef: "v1.0.0",
    env: { GREETING: "hello" },
};
const SNAPSHOT: SnapshotInputs = { volumeDir: "/var/lib/bluegreen/volume", snapshotsDir: "/var/lib/bluegreen/snapshots", migrationVersion: "0001" };
const COMMAND: CommandInputs = { argv: ["node", "app/migrate.ts", "0001"], env: { DATABASE_PATH: "/db.json" }, triggers: ["0001"] };

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

    describe("AppServer", () => {
        it("accepts valid inputs", async () => {
            assert.deepEqual(await failures(appServer, SERVER), []);
        });

        it("names each bad field", async () => {
            await failsOn(appServer, { ...SERVER, name: "app g1" }, "name");
            await failsOn(appServer, { ...SERVER, generation: "g 1" }, "generation");
            await failsOn(appServer, { ...SERVER, databasePath: "db.json" }, "databasePath");
            await failsOn(appServer, { ...SERVER, appRef: "v1\nX=1" }, "appRef");
            await failsOn(appServer, { ...SERVER, env: { "BAD-NAME": "x" } }, "env.BAD-NAME");
            await failsOn(appServer, { ...SERVER, env: { X: "a\0b" } }, "env.X");
        });

        it("refuses env variables the provider sets itself", async () => {
            for (const reserved of ["PORT", "HEALTH_FILE", "DATABASE_PATH"]) {
                await failsOn(appServer, { ...SERVER, env: { [reserved]: "1" } }, `env.${reserved}`);
            }
        });

        it("replaces on any input change", async () => {
            assert.deepEqual(await appServer.diff?.("id", stored(SERVER), { ...SERVER, appRef: "v2", env: {} }), { changes: true, replaces: ["appRef", "env"] });
            assert.deepEqual(await appServer.diff?.("id", stored(SERVER), { ...SERVER }), { changes: false, replaces: [] });
        });
    });

    describe("Snapshot", () => {
        it("names bad fields and refuses a snapshots folder inside the volume", async () => {
            assert.deepEqual(await failures(snapshot, SNAPSHOT), []);
            await failsOn(snapshot, { ...SNAPSHOT, migrationVersion: "../x" }, "migrationVersion");
            await failsOn(snapshot, { ...SNAPSHOT, volumeDir: "." }, "volumeDir");
            await failsOn(snapshot, { ...SNAPSHOT, snapshotsDir: "/var/lib/bluegreen/volume/snaps" }, "snapshotsDir");
            await failsOn(snapshot, { ...SNAPSHOT, snapshotsDir: SNAPSHOT.volumeDir }, "snapshotsDir");
            assert.deepEqual(await failures(snapshot, { ...SNAPSHOT, snapshotsDir: "/var/lib/bluegreen/volume-snapshots" }), []);
            assert.deepEqual(await failures(snapshot, { ...SNAPSHOT, volumeDir: UNKNOWN }), []);
        });

        it("replaces when the migration version changes", async () => {
            assert.deepEqual(await snapshot.diff?.("id", stored(SNAPSHOT), { ...SNAPSHOT, migrationVersion: "0002" }), { changes: true, replaces: ["migrationVersion"] });
        });
    });

    describe("Command", () => {
        it("names bad fields", async () => {
            assert.deepEqual(await failures(command, COMMAND), []);
            assert.deepEqual(await failures(command, { argv: ["true"] }), []);
            await failsOn(command, { ...COMMAND, argv: [] }, "argv");
            await failsOn(command, { ...COMMAND, argv: ["node", ""] }, "argv[1]");
            await failsOn(command, { ...COMMAND, argv: "node migrate.ts" as unknown as string[] }, "argv");
            await failsOn(command, { ...COMMAND, triggers: [1 as unknown as string] }, "triggers[0]");
            await failsOn(command, { ...COMMAND, env: { "A=B": "x" } }, "env.A=B");
        });

        it("updates in place, never replaces", async () => {
            assert.deepEqual(await command.diff?.("id", stored(COMMAND), { ...COMMAND, triggers: ["0002"] }), { changes: true });
            assert.deepEqual(await command.diff?.("id", stored(COMMAND), COMMAND), { changes: false });
        });
    });
});
