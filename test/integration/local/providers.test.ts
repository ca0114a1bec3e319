/**
 * The local target's providers called directly (as the provider host would), against real HAProxy,
 * real app server processes, a real PostgreSQL and real folders: what create makes, what read sees,
 * what delete leaves.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../lab/ports";
import { isRunning } from "../../../src/targets/local/processes";
import appServers, { type AppServersInputs, type AppServersOutputs } from "../../../src/targets/local/appServersProvider";
import database, { type DatabaseInputs, type DatabaseOutputs } from "../../../src/targets/local/databaseProvider";
import { postgresBinDir, psqlQuery, runClient, type Connection } from "../../../src/targets/local/postgres";
import { waitFor } from "../../../lab/wait";
import loadBalancer, { type LoadBalancerInputs, type LoadBalancerOutputs } from "../../../src/targets/local/loadBalancerProvider";
import snapshot, { type SnapshotOutputs } from "../../../src/targets/local/snapshotProvider";
import { renderServersFile } from "../../../src/haproxy/serversFile";
import { adminCommand, masterWorkers } from "../../../src/targets/local/haproxyControl";
import { requireHaproxy } from "../../../lab/haproxy";
import { httpGet, killProcessesUsing, pidAlive, processesUsing } from "../../../lab/localProcesses";

/** Median of a few numbers. */
function median(values: number[]): number {
    return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

describe("local providers against real processes", function () {
    let stateDir: string;

    before(() => requireHaproxy());

    beforeEach(() => {
        stateDir = mkdtempSync(join(tmpdir(), "bg-prov-"));
        chmodSync(stateDir, 0o711); // the postgres user, which runs PostgreSQL, must get through it
    });

    /** A running PostgreSQL in `stateDir` (stopped by afterEach's kill); its connection. */
    async function startDatabase(): Promise<Connection> {
        const db = (await database.create({ name: "db", stateDir, port: 0, database: "app", user: "app" })).outs as DatabaseOutputs;
        return { host: db.host, port: db.listenPort, database: db.database, user: db.user, password: db.password };
    }

    function pickDatabaseInputs(db: DatabaseOutputs): DatabaseInputs {
        return { name: db.name, stateDir: db.stateDir, port: db.port, database: db.database, user: db.user };
    }

    afterEach(() => {
        killProcessesUsing(stateDir);
        rmSync(stateDir, { recursive: true, force: true });
    });

    async function lbInputs(): Promise<LoadBalancerInputs> {
        return {
            name: "lb1",
            stateDir,
            frontendPort: await freePort(),
            backend: "app",
            healthCheck: { path: "/health", expectedStatus: 200, intervalMs: 200, rise: 1, fall: 1 },
        };
    }

    describe("LoadBalancer", () => {
        it("create starts HAProxy in master-worker mode with its admin socket and initial servers file, read sees it, delete stops it and removes its folder", async () => {
            const inputs = await lbInputs();
            const { id, outs } = await loadBalancer.create(inputs);
            const lb = outs as LoadBalancerOutputs;
            const socket = join(stateDir, "lb", "lb1", "admin.sock");
            assert.equal(lb.endpoint, `unix://${socket}`);
            assert.equal(lb.frontendUrl, `http://127.0.0.1:${inputs.frontendPort}/`);
            assert.equal(lb.configPath, join(stateDir, "lb", "lb1", "haproxy.cfg"));
            assert.equal(lb.serversFile, join(stateDir, "lb", "lb1", "servers", "app.cfg"));
            assert.equal(lb.backendDefaults, "backend-app");
            assert.equal(lb.masterSocket, join(stateDir, "lb", "lb1", "master.sock"));
            assert.equal(lb.pidFile, join(stateDir, "lb", "lb1", "haproxy.pid"));
            assert.equal(readFileSync(lb.serversFile, "utf8"), renderServersFile({ backend: "app", backendDefaults: "backend-app" }, new Map()));
            assert.equal(readFileSync(lb.pidFile, "utf8").trim(), String(lb.masterPid), "master-worker mode: the pid file names the master");
            assert.match(await adminCommand(socket, "show info"), new RegExp(`^Pid: ${lb.pid}$`, "m"));
            assert.deepEqual(await masterWorkers(lb.dir), [lb.pid], "the master lists the worker");
            assert.match(await adminCommand(socket, "show servers state app"), /^# be_id be_name/m);
            assert.equal((await httpGet(lb.frontendUrl)).status, 503, "no server yet");

            const read = await loadBalancer.read?.(id, lb);
            assert.deepEqual(read, { id, props: lb, inputs });

            await loadBalancer.delete?.(id, lb);
            assert.equal(pidAlive(lb.pid), false);
            assert.equal(pidAlive(lb.masterPid), false);
            assert.deepEqual(processesUsing(stateDir), []);
            assert.equal(existsSync(join(stateDir, "lb", "lb1")), false);
            assert.deepEqual(await loadBalancer.read?.(id, lb), {}, "a stopped load balancer reads as gone");
        });

        it("refuses a frontend port that another process holds", async () => {
            const inputs = await lbInputs();
            const holder = createServer().listen(inputs.frontendPort, "127.0.0.1");
            try {
                await new Promise((r) => holder.once("listening", r));
                await assert.rejects(loadBalancer.create(inputs), new RegExp(`port ${inputs.frontendPort} on 127.0.0.1 is in use`));
            } finally {
                holder.close();
            }
        });

        it("starts fast (create to admin socket accepting)", async () => {
            const times: number[] = [];
            for (let i = 0; i < 5; i++) {
                const inputs = await lbInputs();
                const started = process.hrtime.bigint();
                const { id, outs } = await loadBalancer.create(inputs);
                times.push(Number(process.hrtime.bigint() - started) / 1e6);
                await loadBalancer.delete?.(id, outs as LoadBalancerOutputs);
            }
            console.log(`      LocalLoadBalancer create (render, spawn, admin socket up), ms: ${times.map((t) => t.toFixed(0)).join(", ")}; median ${median(times).toFixed(0)}`);
            assert.ok(median(times) < 2000);
        });
    });

    describe("AppServers (a generation as one resource)", () => {
        let connection: Connection;
        beforeEach(async () => {
            connection = await startDatabase();
        });
        const inputs = (names: string[], env: Record<string, string> = {}): AppServersInputs => ({ names, generation: "g2", stateDir, database: connection, appRef: "v2", env });
        const answers = async (outs: AppServersOutputs) => Promise.all(outs.servers.map(async (s) => (JSON.parse((await httpGet(s.url)).body) as { server: string }).server));

        it("create starts a healthy server in its own folder; delete stops it gracefully and removes the folder", async () => {
            const one = { ...inputs(["app-g2-0"]), env: { GREETING: "hi" } };
            const { id, outs } = await appServers.create(one);
            const [server] = (outs as AppServersOutputs).servers;
            assert.match(id, /^app-g2-0-[0-9a-f]{6}\+0$/);
            assert.equal(server.serverDir, join(stateDir, "servers", server.marker));
            assert.equal(server.healthFile, join(server.serverDir, "healthy"));
            assert.deepEqual(JSON.parse((await httpGet(server.url)).body), { server: "app-g2-0", generation: "g2", appRef: "v2" });
            assert.equal((await httpGet(server.healthUrl)).status, 200);
            assert.deepEqual((await appServers.read!(id, outs as AppServersOutputs))?.inputs, one);

            const slow = httpGet(`${server.url}slow?ms=1000`);
            await new Promise((r) => setTimeout(r, 100));
            await appServers.delete!(id, outs as AppServersOutputs);
            assert.equal((await slow).status, 200, "the request in flight finished");
            assert.equal(isRunning(server.pid, server.marker), false);
            assert.equal(existsSync(server.serverDir), false);
            assert.deepEqual(await appServers.read!(id, outs as AppServersOutputs), {});
        });

        it("create starts every server; names change in place (new ones started, leaving ones kept until the next update); a dead one is seen by diff and started again; delete stops all", async () => {
            const { id, outs } = await appServers.create(inputs(["app-g2-0", "app-g2-1", "app-g2-2"]));
            const first = outs as AppServersOutputs;
            assert.deepEqual(await answers(first), ["app-g2-0", "app-g2-1", "app-g2-2"]);

            const news = inputs(["app-g2-0", "app-g2-2", "app-g2-3"]);
            assert.deepEqual(await appServers.diff!(id, first, news), { changes: true, replaces: [] });
            assert.deepEqual((await appServers.diff!(id, first, inputs(first.names, { A: "1" }))).replaces, ["env"]);
            const second = (await appServers.update!(id, first, news)).outs as AppServersOutputs;
            assert.deepEqual(await answers(second), ["app-g2-0", "app-g2-2", "app-g2-3"]);
            assert.equal(second.servers[0].pid, first.servers[0].pid, "a server that stays keeps running");
            assert.deepEqual(second.retiring?.map((s) => s.name), ["app-g2-1"]);
            assert.ok(isRunning(first.servers[1].pid, first.servers[1].marker), "app-g2-1 runs until its membership drained it");
            assert.equal((await appServers.diff!(id, second, news)).changes, true, "the next update stops it");

            process.kill(second.servers[1].pid, "SIGKILL");
            await waitFor(() => (isRunning(second.servers[1].pid, second.servers[1].marker) ? undefined : true), { what: "app-g2-2 to exit", timeoutMs: 5000 });
            assert.equal((await appServers.diff!(id, second, news)).changes, true, "the dead server is noticed without a refresh");
            const third = (await appServers.update!(id, second, news)).outs as AppServersOutputs;
            assert.equal(isRunning(first.servers[1].pid, first.servers[1].marker), false, "app-g2-1 stopped");
            assert.equal(existsSync(first.servers[1].serverDir), false);
            assert.equal(third.retiring, undefined);
            assert.notEqual(third.servers[1].pid, second.servers[1].pid);
            assert.deepEqual(await answers(third), ["app-g2-0", "app-g2-2", "app-g2-3"]);
            assert.equal((await appServers.diff!(id, third, news)).changes, false);

            await appServers.delete!(id, third);
            assert.ok(third.servers.every((s) => !isRunning(s.pid, s.marker) && !existsSync(s.serverDir)));
            assert.deepEqual(await appServers.read!(id, third), {});
        });

        it("a server that cannot start fails the create, and the others are stopped", async () => {
            const bad = { ...inputs(["app-g2-0", "app-g2-1"]), env: { NODE_OPTIONS: `--require ${join(stateDir, "missing-module.js")}` } };
            await assert.rejects(appServers.create(bad), (err: Error) => {
                assert.match(err.message, /2 of 2 app servers did not start/);
                assert.match(err.message, /app server app-g2-0 did not start after 3 attempts/);
                assert.match(err.message, /Cannot find module/, "the server's log");
                return true;
            });
            assert.deepEqual(readdirSync(join(stateDir, "servers")), []);
            const check = await appServers.check!({} as AppServersInputs, inputs(["same", "same"]));
            assert.equal(check.failures?.[0]?.property, "names[1]");
        });

        it("starts fast (create of one server: release, spawn, port open)", async () => {
            const times: number[] = [];
            for (let i = 0; i < 5; i++) {
                const started = process.hrtime.bigint();
                const { id, outs } = await appServers.create(inputs(["app-g2-0"]));
                times.push(Number(process.hrtime.bigint() - started) / 1e6);
                await appServers.delete!(id, outs as AppServersOutputs);
            }
            console.log(`      LocalAppServers create of one server (release, spawn, port open), ms: ${times.map((t) => t.toFixed(0)).join(", ")}; median ${median(times).toFixed(0)}`);
            assert.ok(median(times) < 2000);
        });
    });

    describe("Snapshot", () => {
        it("create dumps the database (pg_dump custom format); delete leaves the archive; read sees a removed archive as gone", async () => {
            const connection = await startDatabase();
            const inputs = { connection, snapshotsDir: join(stateDir, "snapshots"), migrationVersion: "0002" };
            const { id, outs } = await snapshot.create(inputs);
            const snap = outs as SnapshotOutputs;
            assert.equal(id, snap.snapshotId);
            assert.match(id, /^0002-\d{8}T\d{9}Z$/);
            assert.equal(snap.path, join(inputs.snapshotsDir, `${id}.dump`));
            assert.equal(readFileSync(snap.path).subarray(0, 5).toString(), "PGDMP");
            assert.ok(snap.bytes > 0);
            assert.ok(!Number.isNaN(Date.parse(snap.createdAt)));
            await snapshot.delete?.(id, snap);
            assert.ok(existsSync(snap.path), "delete keeps the snapshot");
            assert.deepEqual((await snapshot.read?.(id, snap))?.inputs, inputs);
            rmSync(snap.path);
            assert.deepEqual(await snapshot.read?.(id, snap), {});
        });
    });

    describe("Database", () => {
        it("create runs the project's own PostgreSQL (not as root); a killed one is started again by update; delete stops it and removes its folder", async () => {
            const { id, outs } = await database.create({ name: "db", stateDir, port: 0, database: "app", user: "app" });
            const db = outs as DatabaseOutputs;
            assert.match(id, /^db-[0-9a-f]{6}$/);
            assert.equal(db.clusterDir, join(stateDir, "postgres", id));
            assert.ok(isRunning(db.pid, db.marker));
            const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${db.pid}/status`, "utf8"))?.[1]);
            if (process.getuid?.() === 0) assert.notEqual(uid, 0, "PostgreSQL runs as the postgres user, not root");
            assert.ok(db.password.length >= 24);
            assert.ok(!readFileSync(db.logPath, "utf8").includes(db.password), "the password is not in the server's log");
            const connection = { host: db.host, port: db.listenPort, database: db.database, user: db.user, password: db.password };
            assert.equal((await runClient(postgresBinDir(), "psql", psqlQuery("SELECT current_database()"), connection)).stdout.trim(), "app");
            await assert.rejects(runClient(postgresBinDir(), "psql", psqlQuery("SELECT 1"), { ...connection, password: "wrong-password-0123" }), /password authentication failed/);

            process.kill(db.pid, "SIGKILL");
            // Gone from /proc, not only stopped: this test process is its parent, and until Node reaps it the
            // zombie keeps its pid, which the restarted PostgreSQL takes for a postmaster still running.
            await waitFor(() => (existsSync(`/proc/${db.pid}`) ? undefined : true), { what: "the killed postmaster to exit and be reaped", timeoutMs: 10_000 });
            assert.deepEqual(await database.diff?.(id, db, pickDatabaseInputs(db)), { changes: true });
            const restarted = (await database.update?.(id, db, pickDatabaseInputs(db)))?.outs as DatabaseOutputs;
            assert.notEqual(restarted.pid, db.pid);
            assert.equal((await runClient(postgresBinDir(), "psql", psqlQuery("SELECT 1"), connection)).stdout.trim(), "1", "same port, same password, same data");

            await database.delete?.(id, restarted);
            assert.equal(isRunning(restarted.pid, restarted.marker), false);
            assert.equal(existsSync(db.clusterDir), false);
            assert.deepEqual(await database.read?.(id, db), {});
        });
    });
});
