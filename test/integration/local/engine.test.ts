/**
 * The local target's resources through the real engine (Automation API, pinned CLI, file:// backend in a
 * temporary folder): a load balancer, a snapshot, a migration and two app servers come up as real
 * processes and files; refresh notices a dead server; a failing migration fails `up` with its stderr;
 * destroy stops every process and leaves the snapshots.
 *
 * The workspace folder is temporary (the engine writes Pulumi.yaml and a stack file there), while the
 * project's `main` is the project root: the provider host runs there, which the lazy providers need to
 * find their modules.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { DATABASE_FILE, emptyDatabase, readDatabase } from "../../../app/database";
import { freePort } from "../../../src/targets/local/processes";
import { LocalAppServer } from "../../../src/targets/local/appServer";
import { CommandRun } from "../../../src/targets/local/command";
import { LocalLoadBalancer } from "../../../src/targets/local/loadBalancer";
import { LocalSnapshot } from "../../../src/targets/local/snapshot";
import { PROJECT_ROOT, requireEngine, scratchBackend, type ScratchBackend } from "../../../lab/engine";
import { adminCommand } from "../../../src/targets/local/haproxyControl";
import { requireHaproxy } from "../../../lab/haproxy";
import { httpGet, killProcessesUsing, pidAlive, processesUsing } from "../../../lab/localProcesses";

const STACK = "local-it";
const PROJECT = "bluegreen-local-it";

interface ServerInfo {
    url: string;
    healthUrl: string;
    pid: number;
}

describe("local target through the real engine", function () {
    this.timeout(180_000);

    let backend: ScratchBackend;
    let workDir: string;
    let stateDir: string;
    let stack: Stack;
    let frontendPort: number;
    /** The migration version the program deploys; tests change it between updates. */
    let version = "0001-create-orders";
    /** The folder of the server the refresh test kills: refresh forgets the server, its folder (and log) stays. */
    let deadServerDir: string;

    const volumeDir = () => join(stateDir, "volume");
    const snapshotsDir = () => join(stateDir, "snapshots");
    const databasePath = () => join(volumeDir(), DATABASE_FILE);

    /** What the stack exports after each update. */
    async function outputs() {
        const o = await stack.outputs();
        return {
            endpoint: o.endpoint.value as string,
            frontendUrl: o.frontendUrl.value as string,
            lbPid: o.lbPid.value as number,
            snapshotId: o.snapshotId.value as string,
            snapshotPath: o.snapshotPath.value as string,
            migrationStdout: o.migrationStdout.value as string,
            servers: o.servers.value as ServerInfo[],
        };
    }

    const program = async () => {
        const lb = new LocalLoadBalancer("lb", {
            name: "lb1",
            stateDir,
            frontendPort,
            backend: "app",
            healthCheck: { path: "/health", expectedStatus: 200, intervalMs: 200, rise: 1, fall: 1 },
        });
        // No retainOnDelete here: the provider's own delete must leave the snapshot in place.
        const snapshot = new LocalSnapshot("snapshot", { volumeDir: volumeDir(), snapshotsDir: snapshotsDir(), migrationVersion: version });
        const migration = new CommandRun(
            "migration",
            {
                argv: [process.execPath, "-r", "ts-node/register/transpile-only", "app/migrate.ts", version],
                env: { DATABASE_PATH: databasePath() },
                triggers: [version],
            },
            { dependsOn: [snapshot] },
        );
        const servers = [0, 1].map(
            (i) =>
                new LocalAppServer(
                    `app-${i}`,
                    { name: `app-g1-${i}`, generation: "g1", stateDir, databasePath: databasePath(), appRef: "v1.0.0", env: { REQUIRED_SCHEMA: version } },
                    { dependsOn: [migration] },
                ),
        );
        return {
            endpoint: lb.endpoint,
            frontendUrl: lb.frontendUrl,
            lbPid: lb.pid,
            snapshotId: snapshot.snapshotId,
            snapshotPath: snapshot.path,
            migrationStdout: migration.stdout,
            servers: servers.map((s) => pulumi.output({ url: s.url, healthUrl: s.healthUrl, pid: s.pid })),
        };
    };

    before(async function () {
        requireEngine();
        requireHaproxy();
        backend = scratchBackend();
        workDir = mkdtempSync(join(tmpdir(), "bg-work-"));
        stateDir = mkdtempSync(join(tmpdir(), "bg-state-"));
        frontendPort = await freePort();
        stack = await LocalWorkspace.createOrSelectStack(
            { stackName: STACK, projectName: PROJECT, program },
            { workDir, envVars: backend.env, projectSettings: { name: PROJECT, runtime: "nodejs", main: PROJECT_ROOT } },
        );
    });

    after(async function () {
        killProcessesUsing(stateDir ?? "/nonexistent");
        for (const dir of [workDir, stateDir]) if (dir) rmSync(dir, { recursive: true, force: true });
        backend?.dispose();
    });

    it("up creates the load balancer, the snapshot, the migration and two servers", async function () {
        const result = await stack.up();
        assert.equal(result.summary.result, "succeeded");
        assert.equal(result.summary.resourceChanges?.create, 6, "the stack and five resources");
        const types = (await stack.exportStack()).deployment.resources.map((r: { type: string }) => r.type).sort();
        assert.deepEqual(types.filter((t: string) => t.startsWith("pulumi-nodejs:dynamic/local:")), [
            "pulumi-nodejs:dynamic/local:AppServer",
            "pulumi-nodejs:dynamic/local:AppServer",
            "pulumi-nodejs:dynamic/local:Command",
            "pulumi-nodejs:dynamic/local:LoadBalancer",
            "pulumi-nodejs:dynamic/local:Snapshot",
        ]);
    });

    it("the HAProxy admin socket answers and the frontend listens", async function () {
        const o = await outputs();
        assert.equal(o.endpoint, `unix://${join(stateDir, "lb", "lb1", "admin.sock")}`);
        const info = await adminCommand(o.endpoint.slice("unix://".length), "show info");
        assert.match(info, new RegExp(`^Pid: ${o.lbPid}$`, "m"));
        assert.equal(o.frontendUrl, `http://127.0.0.1:${frontendPort}/`);
        assert.equal((await httpGet(o.frontendUrl)).status, 503, "the backend has no server until a membership adds one");
    });

    it("the servers answer HTTP and are healthy (they read the migrated database)", async function () {
        const o = await outputs();
        assert.equal(o.servers.length, 2);
        for (const [i, server] of o.servers.entries()) {
            const res = await httpGet(server.url);
            assert.deepEqual(JSON.parse(res.body), { server: `app-g1-${i}`, generation: "g1", appRef: "v1.0.0" });
            assert.equal((await httpGet(server.healthUrl)).status, 200);
        }
    });

    it("the migration changed the database", async function () {
        const db = readDatabase(databasePath());
        assert.deepEqual(db.schemaVersion, ["0001-create-orders"]);
        assert.deepEqual(db.tables.orders.columns, ["id", "item", "quantity"]);
        assert.match((await outputs()).migrationStdout, /created table orders/);
    });

    it("previews no changes after the update", async function () {
        const preview = await stack.preview({ expectNoChanges: true });
        assert.equal(preview.changeSummary.same, 6);
    });

    it("the snapshot is a copy from before the migration, and scripts/restore-snapshot.ts restores it", async function () {
        const o = await outputs();
        assert.equal(o.snapshotPath, join(snapshotsDir(), o.snapshotId));
        assert.deepEqual(readDatabase(join(o.snapshotPath, DATABASE_FILE)), emptyDatabase());
        const restore = spawnSync(
            process.execPath,
            ["-r", require.resolve("ts-node/register/transpile-only"), join(PROJECT_ROOT, "scripts", "restore-snapshot.ts"), o.snapshotId, "--stack", STACK],
            { cwd: workDir, env: { ...process.env, ...backend.env, TS_NODE_PROJECT: join(PROJECT_ROOT, "tsconfig.json") }, encoding: "utf8" },
        );
        assert.equal(restore.status, 0, restore.stderr);
        assert.match(restore.stdout, /restored: /);
        assert.deepEqual(readDatabase(databasePath()), emptyDatabase());
        const health = await httpGet(o.servers[0].healthUrl);
        assert.equal(health.status, 503, "a server requiring the rolled-back schema fails its health check");
        assert.match(JSON.parse(health.body).reason, /lacks schema version 0001-create-orders/);
    });

    it("refresh notices a server whose process is gone, and up starts a new one", async function () {
        const before = await outputs();
        deadServerDir = readdirSync(join(stateDir, "servers")).find((d) => d.startsWith("app-g1-0-")) as string;
        process.kill(before.servers[0].pid, "SIGKILL");
        const refresh = await stack.refresh();
        assert.equal(refresh.summary.resourceChanges?.delete, 1);
        const up = await stack.up();
        assert.equal(up.summary.resourceChanges?.create, 1);
        const after = await outputs();
        assert.notEqual(after.servers[0].pid, before.servers[0].pid);
        assert.equal(after.servers[1].pid, before.servers[1].pid, "the other server is untouched");
        assert.equal((await httpGet(after.servers[0].url)).status, 200);
    });

    it("a failing migration fails up with the command's stderr, before any server is replaced", async function () {
        const before = await outputs();
        version = "fail-0002";
        await assert.rejects(stack.up(), (err: Error) => {
            assert.match(err.message, /command \[.*"app\/migrate\.ts","fail-0002"\] exited with code 1; last 20 lines of stderr:/);
            assert.match(err.message, /migration failed: migration fail-0002 fails on purpose/);
            return true;
        });
        for (const server of before.servers) assert.ok(pidAlive(server.pid), `server ${server.pid} still runs`);
        assert.ok(pidAlive(before.lbPid));
    });

    it("destroy stops every process and removes their folders (not the dead one's), but leaves the snapshots", async function () {
        const before = await outputs();
        const result = await stack.destroy();
        assert.equal(result.summary.result, "succeeded");
        for (const pid of [before.lbPid, ...before.servers.map((s) => s.pid)]) assert.equal(pidAlive(pid), false, `pid ${pid} is gone`);
        assert.deepEqual(processesUsing(stateDir), []);
        assert.deepEqual(readdirSync(join(stateDir, "servers")), [deadServerDir]);
        assert.equal(existsSync(join(stateDir, "lb", "lb1")), false);
        const snapshots = readdirSync(snapshotsDir()).sort();
        assert.equal(snapshots.length, 2, `the first snapshot and the one before the failed migration: ${snapshots}`);
        assert.ok(snapshots.includes(before.snapshotId));
        assert.ok(snapshots.some((s) => s.startsWith("fail-0002-")));
    });
});
