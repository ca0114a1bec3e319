/**
 * The demo app server as the local target runs it: a release built from app/ (plain JavaScript), started
 * with node, answering on a free port; its health check queries a real PostgreSQL (the local target's
 * own, src/targets/local/database*.ts) for the schema it needs, and follows the health-check file;
 * SIGTERM lets requests in flight finish.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APP_MODULES, SERVER_ENTRY, buildRelease } from "../../../src/targets/local/appRelease";
import { freePort } from "../../../lab/ports";
import { baseEnvironment, waitForPort } from "../../../src/targets/local/processes";
import database, { type DatabaseOutputs } from "../../../src/targets/local/databaseProvider";
import { migrate } from "../../../src/targets/local/migrations";
import { postgresBinDir, type Connection } from "../../../src/targets/local/postgres";
import { DEMO_MIGRATIONS_DIR } from "../../../src/targets/local/target";
import { waitFor } from "../../../lab/wait";
import { httpGet } from "../../../lab/localProcesses";

interface RunningApp {
    child: ChildProcess;
    url: string;
    output(): string;
    exited: Promise<number | null>;
}

describe("demo app server", function () {
    let dir: string;
    let release: string;
    let healthFile: string;
    let db: DatabaseOutputs;
    let connection: Connection;
    const running: RunningApp[] = [];

    before(async () => {
        dir = mkdtempSync(join(tmpdir(), "bluegreen-app-"));
        chmodSync(dir, 0o711); // the postgres user, which runs PostgreSQL, must get through it
        release = join(dir, "release");
        await buildRelease(release);
        db = (await database.create!({ name: "db", stateDir: dir, port: 0, database: "app", user: "app" })).outs as DatabaseOutputs;
        connection = { host: db.host, port: db.listenPort, database: db.database, user: db.user, password: db.password };
    });

    beforeEach(() => {
        healthFile = join(dir, "healthy");
        writeFileSync(healthFile, "");
    });

    afterEach(async () => {
        for (const app of running.splice(0)) {
            app.child.kill("SIGKILL");
            await app.exited;
        }
    });

    after(async () => {
        if (db) await database.delete!(db.marker, db);
        rmSync(dir, { recursive: true, force: true });
    });

    async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
        const port = await freePort();
        const child = spawn(process.execPath, [join(release, SERVER_ENTRY)], {
            env: baseEnvironment({
                PORT: String(port),
                SERVER_NAME: "app-g1-0",
                GENERATION: "g1",
                APP_REF: "v1.2.3",
                HEALTH_FILE: healthFile,
                NODE_PATH: APP_MODULES,
                PGHOST: connection.host,
                PGPORT: String(connection.port),
                PGDATABASE: connection.database,
                PGUSER: connection.user,
                PGPASSWORD: connection.password,
                ...env,
            }),
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout?.on("data", (d) => (output += d));
        child.stderr?.on("data", (d) => (output += d));
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        const app = { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
        running.push(app);
        await waitForPort("127.0.0.1", port, 10_000, () => child.exitCode === null);
        return app;
    }

    it("answers / with its identity and logs one line per request", async () => {
        const app = await startApp();
        const res = await httpGet(`${app.url}/`);
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.body), { server: "app-g1-0", generation: "g1", appRef: "v1.2.3" });
        assert.equal((await httpGet(`${app.url}/nope`)).status, 404);
        const log = await waitFor(() => (/GET \/nope 404/.test(app.output()) ? app.output() : undefined), { what: "the request log" });
        assert.match(log, /^\S+Z GET \/ 200 \d+ms$/m);
        assert.match(log, /^\S+Z GET \/nope 404 \d+ms$/m);
    });

    it("is healthy only with the health-check file, a reachable database and the required schema", async () => {
        const app = await startApp({ REQUIRED_SCHEMA: "0002" });
        const health = async (url = app.url) => {
            const res = await httpGet(`${url}/health`);
            return res.status === 200 ? "ok" : `${res.status} ${JSON.parse(res.body).reason}`;
        };
        assert.equal(await health(), '503 database unavailable: relation "schema_migrations" does not exist');
        await migrate(postgresBinDir(), connection, DEMO_MIGRATIONS_DIR, "0001");
        assert.equal(await health(), "503 database lacks schema version 0002");
        await migrate(postgresBinDir(), connection, DEMO_MIGRATIONS_DIR, "0002");
        assert.equal(await health(), "ok");
        const items = JSON.parse((await httpGet(`${app.url}/items`)).body).items;
        assert.deepEqual(items.map((i: { name: string; note: string }) => [i.name, i.note]), [["first item", ""]]);
        unlinkSync(healthFile);
        assert.match(await health(), /^503 health-check file .*healthy is missing$/);
        writeFileSync(healthFile, "");
        const wrongPassword = await startApp({ PGPASSWORD: "not-the-password" });
        assert.match(await health(wrongPassword.url), /^503 database unavailable: password authentication failed for user "app"$/);
        const noServer = await startApp({ PGPORT: String(await freePort()) });
        assert.match(await health(noServer.url), /^503 database unavailable: .*ECONNREFUSED/);
    });

    it("fails health on purpose with APP_FAIL_HEALTH=1", async () => {
        const app = await startApp({ APP_FAIL_HEALTH: "1" });
        const res = await httpGet(`${app.url}/health`);
        assert.equal(res.status, 503);
        assert.equal(JSON.parse(res.body).reason, "APP_FAIL_HEALTH=1");
    });

    it("answers /slow after the delay asked for, within bounds", async () => {
        const app = await startApp();
        const started = Date.now();
        const res = await httpGet(`${app.url}/slow?ms=300`);
        assert.equal(res.status, 200);
        assert.ok(Date.now() - started >= 300);
        assert.equal(JSON.parse(res.body).server, "app-g1-0");
        for (const bad of ["60001", "-1", "1.5", "abc"]) assert.equal((await httpGet(`${app.url}/slow?ms=${bad}`)).status, 400, bad);
    });

    it("keeps connections alive", async () => {
        const app = await startApp();
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
            const ports: number[] = [];
            for (let i = 0; i < 3; i++) {
                ports.push(
                    await new Promise<number>((resolve, reject) => {
                        const req = request(`${app.url}/`, { agent }, (res) => {
                            res.resume();
                            res.on("end", () => resolve(req.socket?.localPort ?? -1));
                        });
                        req.on("error", reject);
                        req.end();
                    }),
                );
            }
            assert.equal(new Set(ports).size, 1, `three requests on one connection, got local ports ${ports}`);
        } finally {
            agent.destroy();
        }
    });

    it("on SIGTERM refuses new connections, finishes requests in flight and exits 0", async () => {
        const app = await startApp();
        const inFlight = httpGet(`${app.url}/slow?ms=1500`);
        await new Promise((r) => setTimeout(r, 200));
        app.child.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 200));
        await assert.rejects(httpGet(`${app.url}/`), /ECONNREFUSED/);
        const res = await inFlight;
        assert.equal(res.status, 200);
        assert.equal(await app.exited, 0);
        assert.match(app.output(), /SIGTERM: no new connections/);
    });

    it("starts fast from its release (spawn to port open)", async () => {
        const times: number[] = [];
        for (let i = 0; i < 5; i++) {
            const started = process.hrtime.bigint();
            const app = await startApp();
            times.push(Number(process.hrtime.bigint() - started) / 1e6);
            app.child.kill("SIGTERM");
            await app.exited;
        }
        const median = times.sort((a, b) => a - b)[2];
        console.log(`      app server start (spawn -> port open), ms: ${times.map((t) => t.toFixed(0)).join(", ")}; median ${median.toFixed(0)}`);
        assert.ok(median < 1000, `median start ${median} ms`);
    });
});
