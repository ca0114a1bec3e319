/**
 * End to end: the real engine (Automation API and CLI), real HAProxy, real app processes, real traffic.
 * One scratch copy of the project goes through a whole life: up g1, preview and flip to g2 under load
 * with a migration (g2 needs schema 0002), a broken generation, a broken migration, rollback to g1, an
 * interrupted flip, a snapshot restore, destroy. The database is a real PostgreSQL.
 * The tests run in order and each starts from where the previous one left the stack.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { deployedState, flipUnderTraffic, type FlipRun } from "../../scripts/lib/flip";
import { longCompletedOnOld } from "../../scripts/lib/report";
import { runningHaproxyVersion } from "../../src/targets/local/haproxyBinary";
import { adminCommand } from "../../src/targets/local/haproxyControl";
import { postgresBinDir, psqlQuery, runClient, type Connection } from "../../src/targets/local/postgres";
import { TYPES } from "../../src/names";
import { httpGet } from "../../lab/localProcesses";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";
import { assertOnlyGeneration, membersByLb } from "../support/servingGeneration";
import { PROJECT_ROOT } from "../../lab/engine";
import { interruptedUp } from "../../lab/interruptedUp";

/** The stack's database connection, from its state (the password decrypted in memory). */
async function connectionOf(p: ScratchProject): Promise<Connection> {
    const state = await p.stack.exportStack();
    const db = (state.deployment.resources as { type: string; outputs: Record<string, unknown> }[]).find((r) => r.type === TYPES.localDatabase)!.outputs;
    const secret = db.password as { plaintext?: string } | string;
    const password = typeof secret === "string" ? secret : JSON.parse(secret.plaintext as string);
    return { host: db.host as string, port: db.listenPort as number, database: db.database as string, user: db.user as string, password };
}

async function query(p: ScratchProject, sql: string): Promise<string> {
    return (await runClient(postgresBinDir(), "psql", psqlQuery(sql), await connectionOf(p))).stdout.trim();
}

function assertNoFailures(run: FlipRun): void {
    assert.ok(run.traffic.total > 100, `enough traffic to mean something: ${run.traffic.total}`);
    assert.deepEqual(run.traffic.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
}

describe("end to end: generation flips under live traffic", function () {
    this.timeout(600_000);
    let p: ScratchProject;
    let g1Ports: number[] = [];

    before(async () => {
        p = await scratchProject();
        const up = await p.stack.up();
        assert.equal(up.summary.result, "succeeded");
        g1Ports = (up.outputs.servers.value as { port: number }[]).map((s) => s.port);
    });
    after(async () => p?.dispose());

    it("brings up g1 behind both load balancers, running the selected HAProxy, answering through each frontend", async () => {
        assertOnlyGeneration(await membersByLb(p), "g1");
        const version = runningHaproxyVersion();
        for (const lb of (await deployedState(p.stack)).loadBalancers) {
            const info = await adminCommand(lb.endpoint.replace(/^unix:\/\//, ""), "show info");
            assert.equal(/^Version: (\S+)$/m.exec(info)?.[1], version, `${lb.name} runs HAProxy ${version} (BLUEGREEN_HAPROXY_VERSION)`);
            const r = await httpGet(lb.frontendUrl);
            assert.equal(r.status, 200);
            assert.equal(JSON.parse(r.body).generation, "g1");
        }
    });

    it("previews the flip as creates for g2 and deletes for g1, and nothing else", async () => {
        await p.stack.setConfig("generation", { value: "g2" });
        const migrate = { migration: { version: "0002" } };
        const steps: { op: string; name: string }[] = [];
        const onEvent = (e: EngineEvent) => {
            const m = e.resourcePreEvent?.metadata;
            // The engine hands the whole project config to the dynamic-provider host's default provider,
            // so any config change shows as a no-op update of `pulumi:providers:pulumi-nodejs::default`;
            // the program reads its own last outputs through a StackReference (a read, every time).
            // The record of what each generation was built from gains g2 (an update of FrozenGenerations).
            const bookkeeping = m?.type === "pulumi:providers:pulumi-nodejs" || m?.type === "pulumi:pulumi:StackReference" || (m?.type === TYPES.frozenGenerations && m.op === "update");
            if (m && m.op !== "same" && !bookkeeping) {
                steps.push({ op: m.op, name: m.urn.slice(m.urn.lastIndexOf("::") + 2) });
            }
        };
        const preview = await p.stack.preview({ diff: true, onEvent });
        const creates = steps.filter((s) => s.op === "create").map((s) => s.name);
        const deletes = steps.filter((s) => s.op === "delete").map((s) => s.name);
        assert.deepEqual(steps.filter((s) => s.op !== "create" && s.op !== "delete"), [], "no update or replace");
        assert.ok(creates.length > 0 && creates.every((n) => n.includes("-g2")), creates.join(", "));
        assert.ok(deletes.length > 0 && deletes.every((n) => n.includes("-g1")), deletes.join(", "));
        assert.deepEqual(creates.map((n) => n.replace("-g2", "")).sort(), deletes.map((n) => n.replace("-g1", "")).sort());
        assert.equal(preview.changeSummary.create, creates.length);
        assert.equal(preview.changeSummary.delete, deletes.length);
        // The flip that follows also migrates: g2 needs schema 0002 (REQUIRED_SCHEMA in its inputs).
        await p.setConfig("database", migrate);
    });

    it("flips g1 -> g2 under load with a migration: snapshot, migration, then g2; g1 served throughout (zero failed requests)", async () => {
        assert.equal(await query(p, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations"), "0001");
        const run = await flipUnderTraffic(p.stack, "g2");
        assert.equal(run.error, undefined, run.error?.message);
        assertNoFailures(run);
        const { snapshot, migration, create, drain } = run.phases;
        assert.ok(snapshot !== undefined && migration !== undefined && create !== undefined && drain !== undefined, JSON.stringify(run.phases));
        assert.equal(await query(p, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations"), "0001,0002");
        assert.equal(await query(p, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'"), "1");
        // g1 kept serving after the migration and until the drain: the whole run's traffic succeeded, and
        // the drain (which began after the migration) found long requests of g1 in flight, which completed.
        assert.ok(longCompletedOnOld(run).length >= 1, "a long request in flight on g1 when the drain started completed on g1");
        assertOnlyGeneration(await membersByLb(p), "g2");
        for (const port of g1Ports) {
            await assert.rejects(httpGet(`http://127.0.0.1:${port}/`, 2000), /ECONNREFUSED/, `g1 server on ${port} is gone`);
        }
    });

    it("previews no changes after the flip", async () => {
        const preview = await p.stack.preview({ expectNoChanges: true });
        assert.equal(preview.changeSummary.create ?? 0, 0);
    });

    it("a generation failing its health check: up fails, g2 keeps serving untouched, the failed servers are attached nowhere", async () => {
        // g2 keeps the settings it was built with (they are fixed: FrozenGenerations); g3 gets its own.
        await p.setConfig("pool", { size: 2, namePrefix: "app", spec: { appRef: "v1.0.0" }, generations: { g2: { appRef: "v1.1.0", inputs: { REQUIRED_SCHEMA: "0002" } }, g3: { inputs: { APP_FAIL_HEALTH: "1" } } } });
        const run = await flipUnderTraffic(p.stack, "g3");
        assert.match(run.error?.message ?? "", /health gate failed for 2 of 2/);
        assertNoFailures(run);
        assert.equal(run.phases.drain, undefined, "nothing was drained");
        assertOnlyGeneration(await membersByLb(p), "g2");
        await p.stack.setConfig("generation", { value: "g2" });
        await p.stack.up();
        assertOnlyGeneration(await membersByLb(p), "g2");
    });

    it("a failing migration: rolled back, up fails before any new server, g2 keeps serving", async () => {
        writeFileSync(join(p.dir, "app", "migrations", "0003_broken.sql"), "CREATE TABLE half_done (id int);\nALTER TABLE items ADD COLUMN oops text;\nSELECT no_such_function();\n");
        await p.setConfig("pool", { size: 2, namePrefix: "app", spec: { appRef: "v1.0.0" }, generations: { g2: { appRef: "v1.1.0", inputs: { REQUIRED_SCHEMA: "0002" } } } });
        await p.setConfig("database", { migration: { version: "0003" } });
        const run = await flipUnderTraffic(p.stack, "g3");
        assert.match(run.error?.message ?? "", /migration 0003_broken\.sql failed and was rolled back/);
        assertNoFailures(run);
        assert.equal(run.phases.create, undefined, "no new server was created");
        assertOnlyGeneration(await membersByLb(p), "g2");
        assert.equal(await query(p, "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'"), "0", "the failed file's table was rolled back");
        assert.equal(await query(p, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'oops'"), "0");
        assert.equal(await query(p, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations"), "0001,0002", "the migrations table is unchanged");
        await p.setConfig("database", { migration: { version: "0002" } });
        await p.stack.setConfig("generation", { value: "g2" });
    });

    it("rolls back to g1 under load with zero failed requests (the schema stays at 0002, which g1 works with)", async () => {
        const run = await flipUnderTraffic(p.stack, "g1");
        assert.equal(run.error, undefined, run.error?.message);
        assertNoFailures(run);
        assertOnlyGeneration(await membersByLb(p), "g1");
        assert.equal((await p.stack.outputs()).migrationVersion.value, "0002");
    });

    it("an up interrupted during the drain (SIGINT, then SIGKILL) converges on a re-run with zero failed requests", async () => {
        const run = await flipUnderTraffic(p.stack, "g2", {
            traffic: { longRequestMs: 6000 },
            up: async (stack) => {
                const { seen, output } = await interruptedUp(p, stack, /draining: no new sessions/, (group) => {
                    process.kill(-group, "SIGINT");
                    setTimeout(() => process.kill(-group, "SIGKILL"), 500);
                });
                assert.ok(seen, `the drain started before the interrupt:\n${output.slice(-2000)}`);
                return stack.up();
            },
        });
        assert.equal(run.error, undefined, run.error?.message);
        assertNoFailures(run);
        assertOnlyGeneration(await membersByLb(p), "g2");
    });

    it("npm run restore-snapshot restores the snapshot of output snapshotId (taken before 0002) as the database", async () => {
        const snapshotId = (await p.stack.outputs()).snapshotId.value as string;
        assert.match(snapshotId, /^0002-/);
        const script = join(PROJECT_ROOT, "scripts", "restore-snapshot.ts");
        const restore = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), script, snapshotId, "--stack", "e2e"], {
            cwd: p.dir, // the scratch project: `pulumi stack export` reads its stack
            env: { ...process.env, ...p.env, TS_NODE_PROJECT: join(PROJECT_ROOT, "tsconfig.json") },
            encoding: "utf8",
        });
        assert.equal(restore.status, 0, restore.stderr);
        assert.ok(!`${restore.stdout}${restore.stderr}`.includes((await connectionOf(p)).password), "the password is never printed");
        assert.equal(await query(p, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations"), "0001", "the restored database predates 0002");
        assert.equal(await query(p, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'"), "0");
    });

    it("destroy stops every process and leaves the database snapshots", async () => {
        const snapshotsDir = join(p.stateDir, "local", "e2e", "snapshots");
        const snapshot = join(snapshotsDir, `${(await p.stack.outputs()).snapshotId.value as string}.dump`);
        const frontends = (await deployedState(p.stack)).loadBalancers.map((lb) => lb.frontendUrl);
        const { port } = await connectionOf(p);
        await p.stack.destroy();
        assert.ok(existsSync(snapshot), "the snapshot is retained");
        for (const url of frontends) await assert.rejects(httpGet(url, 2000), /ECONNREFUSED/);
        await assert.rejects(httpGet(`http://127.0.0.1:${port}/`, 2000), /ECONNREFUSED/, "PostgreSQL is stopped");
    });
});
