/**
 * The local target's resources through the real engine (Automation API, pinned CLI, file:// backend in a
 * temporary folder): a load balancer, a PostgreSQL, a snapshot, a migration and two app servers (one
 * resource) come up as real processes and files; up starts a dead server again; a failing migration fails
 * `up` with psql's stderr and is rolled back; destroy stops every process and leaves the snapshots.
 *
 * The workspace folder is temporary (the engine writes Pulumi.yaml and a stack file there), while the
 * project's `main` is the project root: the provider host runs there, which the lazy providers need to
 * find their modules.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { freePort } from "../../../lab/ports";
import { LocalAppServers } from "../../../src/targets/local/appServers";
import { LocalDatabase } from "../../../src/targets/local/database";
import { LocalMigration } from "../../../src/targets/local/migration";
import { DEMO_MIGRATIONS_DIR } from "../../../src/targets/local/target";
import { postgresBinDir, psqlQuery, runClient, type Connection } from "../../../src/targets/local/postgres";
import { LocalLoadBalancer } from "../../../src/targets/local/loadBalancer";
import { LocalSnapshot } from "../../../src/targets/local/snapshot";
import { PROJECT_ROOT, requireEngine, scratchBackend, type ScratchBackend } from "../../../lab/engine";
import { adminCommand } from "../../../src/targets/local/haproxyControl";
import { requireHaproxy } from "../../../lab/haproxy";
import { httpGet, killProcessesUsing, pidAlive, processesUsing } from "../../../lab/localProcesses";
import { waitFor } from "../../../lab/wait";

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
    let version = "0001";
    /** The folder of the server a test kills: the server is started again elsewhere, its folder (and log) stays. */
    let deadServerDir: string;

    const snapshotsDir = () => join(stateDir, "snapshots");
    const migrationsDir = () => join(stateDir, "migrations");
    /** The database's connection, with its password, from the state (decrypted). */
    async function connection(): Promise<Connection> {
        const o = await stack.outputs();
        return o.connection.value as Connection;
    }
    async function query(sql: string): Promise<string> {
        return (await runClient(postgresBinDir(), "psql", psqlQuery(sql), await connection())).stdout.trim();
    }

    /** What the stack exports after each update. */
    async function outputs() {
        const o = await stack.outputs();
        return {
            endpoint: o.endpoint.value as string,
            frontendUrl: o.frontendUrl.value as string,
            lbPid: o.lbPid.value as number,
            snapshotId: o.snapshotId.value as string,
            snapshotPath: o.snapshotPath.value as string,
            applied: o.applied.value as string[],
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
        const database = new LocalDatabase("db", { name: "db", stateDir });
        const snapshot = new LocalSnapshot("snapshot", { connection: database.connection(), snapshotsDir: snapshotsDir(), migrationVersion: version });
        const migration = new LocalMigration("migration", { migrationsDir: migrationsDir(), migrationVersion: version, connection: database.connection() }, { dependsOn: [snapshot] });
        const servers = new LocalAppServers(
            "app",
            { names: ["app-g1-0", "app-g1-1"], generation: "g1", stateDir, database: database.connection(), appRef: "v1.0.0", env: { REQUIRED_SCHEMA: version } },
            { dependsOn: [migration] },
        );
        return {
            endpoint: lb.endpoint,
            frontendUrl: lb.frontendUrl,
            lbPid: lb.pid,
            snapshotId: snapshot.snapshotId,
            snapshotPath: snapshot.path,
            applied: migration.applied,
            dbPid: database.pid,
            connection: database.connection(),
            servers: servers.servers.apply((list) => list.map((s) => ({ url: s.url, healthUrl: s.healthUrl, pid: s.pid }))),
        };
    };

    before(async function () {
        requireEngine();
        requireHaproxy();
        backend = scratchBackend();
        workDir = mkdtempSync(join(tmpdir(), "bg-work-"));
        stateDir = mkdtempSync(join(tmpdir(), "bg-state-"));
        chmodSync(stateDir, 0o711); // the postgres user, which runs PostgreSQL, must get through it
        cpSync(DEMO_MIGRATIONS_DIR, migrationsDir(), { recursive: true });
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

    it("up creates the load balancer, the database, the snapshot, the migration and two servers", async function () {
        const result = await stack.up();
        assert.equal(result.summary.result, "succeeded");
        assert.equal(result.summary.resourceChanges?.create, 6, "the stack and five resources");
        const types = (await stack.exportStack()).deployment.resources.map((r: { type: string }) => r.type).sort();
        assert.deepEqual(types.filter((t: string) => t.startsWith("pulumi-nodejs:dynamic/local:")), [
            "pulumi-nodejs:dynamic/local:AppServers",
            "pulumi-nodejs:dynamic/local:Database",
            "pulumi-nodejs:dynamic/local:LoadBalancer",
            "pulumi-nodejs:dynamic/local:Migration",
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

    it("the servers answer HTTP and are healthy (their health query finds the migration they need)", async function () {
        const o = await outputs();
        assert.equal(o.servers.length, 2);
        for (const [i, server] of o.servers.entries()) {
            const res = await httpGet(server.url);
            assert.deepEqual(JSON.parse(res.body), { server: `app-g1-${i}`, generation: "g1", appRef: "v1.0.0" });
            assert.equal((await httpGet(server.healthUrl)).status, 200);
        }
    });

    it("the migration changed the database and recorded itself; the password is a secret in the state", async function () {
        assert.equal(await query("SELECT version FROM schema_migrations ORDER BY version"), "0001");
        assert.equal(await query("SELECT name FROM items"), "first item");
        assert.deepEqual((await outputs()).applied, ["0001_create_items.sql"]);
        const { password } = await connection();
        // The CLI's export, as a user would see it (the Automation API's exportStack shows secrets).
        const exported = spawnSync("pulumi", ["stack", "export", "--stack", STACK], { cwd: workDir, env: { ...process.env, ...backend.env }, encoding: "utf8" });
        assert.equal(exported.status, 0, exported.stderr);
        const resources = JSON.parse(exported.stdout).deployment.resources as { urn: string }[];
        assert.ok(resources.some((r) => r.urn.endsWith("local:Database::db")));
        const leaks = resources.filter((r) => JSON.stringify(r).includes(password)).map((r) => r.urn);
        assert.deepEqual(leaks, [], "the password appears nowhere in plain text in the state");
    });

    it("previews no changes after the update", async function () {
        const preview = await stack.preview({ expectNoChanges: true });
        assert.equal(preview.changeSummary.same, 6);
    });

    it("the snapshot is a pg_dump from before the migration, and scripts/restore-snapshot.ts restores it", async function () {
        const o = await outputs();
        assert.equal(o.snapshotPath, join(snapshotsDir(), `${o.snapshotId}.dump`));
        assert.equal(readFileSync(o.snapshotPath).subarray(0, 5).toString(), "PGDMP", "a custom-format archive");
        const restore = spawnSync(
            process.execPath,
            ["-r", require.resolve("ts-node/register/transpile-only"), join(PROJECT_ROOT, "scripts", "restore-snapshot.ts"), o.snapshotId, "--stack", STACK],
            { cwd: workDir, env: { ...process.env, ...backend.env, TS_NODE_PROJECT: join(PROJECT_ROOT, "tsconfig.json") }, encoding: "utf8" },
        );
        assert.equal(restore.status, 0, restore.stderr);
        assert.match(restore.stdout, /restored: /);
        assert.ok(!restore.stdout.includes((await connection()).password) && !restore.stderr.includes((await connection()).password), "the password is never printed");
        assert.equal(await query("SELECT count(*) FROM pg_tables WHERE tablename IN ('items', 'schema_migrations')"), "0", "the restored database predates migration 0001");
        let health = await httpGet(o.servers[0].healthUrl);
        for (let i = 0; i < 20 && health.status === 503 && !/lacks schema/.test(health.body); i++) health = await httpGet(o.servers[0].healthUrl);
        assert.equal(health.status, 503, "a server requiring the rolled-back schema fails its health check");
        assert.match(JSON.parse(health.body).reason, /database unavailable: relation "schema_migrations" does not exist|lacks schema version 0001/);
        // Forward again, for the next tests: the migration runs again when asked (an input changes).
        version = "0002";
        await stack.up();
        assert.equal(await query("SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations"), "0001,0002");
    });

    it("up notices a server whose process is gone and starts it again, the other untouched", async function () {
        const before = await outputs();
        deadServerDir = readdirSync(join(stateDir, "servers")).find((d) => d.startsWith("app-g1-0-")) as string;
        process.kill(before.servers[0].pid, "SIGKILL");
        await waitFor(() => (pidAlive(before.servers[0].pid) ? undefined : true), { what: "the killed server to exit", timeoutMs: 5000 });
        const up = await stack.up();
        assert.equal(up.summary.resourceChanges?.update, 1);
        const after = await outputs();
        assert.notEqual(after.servers[0].pid, before.servers[0].pid);
        assert.equal(after.servers[1].pid, before.servers[1].pid, "the other server is untouched");
        assert.equal((await httpGet(after.servers[0].url)).status, 200);
    });

    it("a failing migration fails up with psql's stderr and is rolled back, before any server is replaced", async function () {
        const before = await outputs();
        writeFileSync(join(migrationsDir(), "0003_broken.sql"), "CREATE TABLE half_done (id int);\nALTER TABLE items ADD COLUMN oops text;\nSELECT no_such_function();\n");
        version = "0003";
        await assert.rejects(stack.up(), (err: Error) => {
            assert.match(err.message, /migration 0003_broken\.sql failed and was rolled back: .*psql.* exited with code 3/);
            assert.match(err.message, /function no_such_function\(\) does not exist/);
            return true;
        });
        assert.equal(await query("SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'"), "0", "the failed file's table was rolled back");
        assert.equal(await query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'oops'"), "0");
        assert.equal(await query("SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations"), "0001,0002", "nothing recorded");
        for (const server of before.servers) assert.ok(pidAlive(server.pid), `server ${server.pid} still runs`);
        assert.ok(pidAlive(before.lbPid));
    });

    it("destroy stops every process and removes their folders (not the dead one's), but leaves the snapshots", async function () {
        const before = await outputs();
        const dbPid = (await stack.exportStack()).deployment.resources.find((r: { type: string }) => r.type === "pulumi-nodejs:dynamic/local:Database").outputs.pid as number;
        const result = await stack.destroy();
        assert.equal(result.summary.result, "succeeded");
        for (const pid of [before.lbPid, dbPid, ...before.servers.map((s) => s.pid)]) assert.equal(pidAlive(pid), false, `pid ${pid} is gone`);
        assert.deepEqual(readdirSync(join(stateDir, "postgres")), [], "the cluster's folder is removed");
        assert.deepEqual(processesUsing(stateDir), []);
        assert.deepEqual(readdirSync(join(stateDir, "servers")), [deadServerDir]);
        assert.equal(existsSync(join(stateDir, "lb", "lb1")), false);
        const snapshots = readdirSync(snapshotsDir()).sort();
        assert.equal(snapshots.length, 3, `before 0001, before 0002 and before the failed 0003: ${snapshots}`);
        assert.ok(snapshots.includes(`${before.snapshotId}.dump`));
        assert.ok(snapshots.some((s) => s.startsWith("0003-")));
    });
});
