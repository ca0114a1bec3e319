/**
 * The local target's providers called directly (as the provider host would), against real HAProxy,
 * real app server processes and real folders: what create makes, what read sees, what delete leaves.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATABASE_FILE, readDatabase } from "../../../app/database";
import { freePort, isRunning } from "../../../src/targets/local/processes";
import appServer, { type AppServerInputs, type AppServerOutputs } from "../../../src/targets/local/appServerProvider";
import command, { type CommandOutputs } from "../../../src/targets/local/commandProvider";
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
    });

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

    describe("AppServer", () => {
        function serverInputs(env: Record<string, string> = {}): AppServerInputs {
            const volume = join(stateDir, "volume");
            return { name: "app-g1-0", generation: "g1", stateDir, databasePath: join(volume, DATABASE_FILE), appRef: "v1", env };
        }

        it("create starts a healthy server in its own folder; delete stops it and removes the folder", async () => {
            const inputs = serverInputs({ GREETING: "hi" });
            await snapshot.create({ volumeDir: join(stateDir, "volume"), snapshotsDir: join(stateDir, "snapshots"), migrationVersion: "0001" });
            const { id, outs } = await appServer.create(inputs);
            const server = outs as AppServerOutputs;
            assert.match(id, /^app-g1-0-[0-9a-f]{6}$/);
            assert.equal(server.serverDir, join(stateDir, "servers", id));
            assert.equal(server.healthFile, join(server.serverDir, "healthy"));
            assert.deepEqual(JSON.parse((await httpGet(server.url)).body), { server: "app-g1-0", generation: "g1", appRef: "v1" });
            assert.equal((await httpGet(server.healthUrl)).status, 200);
            assert.deepEqual((await appServer.read?.(id, server))?.inputs, inputs);

            const slow = httpGet(`${server.url}slow?ms=1000`);
            await new Promise((r) => setTimeout(r, 100));
            await appServer.delete?.(id, server);
            assert.equal((await slow).status, 200, "the request in flight finished");
            assert.equal(isRunning(server.pid, server.marker), false);
            assert.equal(existsSync(server.serverDir), false);
            assert.deepEqual(await appServer.read?.(id, server), {});
        });

        it("create fails with the server's log when the process cannot start, and leaves nothing", async () => {
            const inputs = serverInputs({ NODE_OPTIONS: `--require ${join(stateDir, "missing-module.js")}` });
            await assert.rejects(appServer.create(inputs), (err: Error) => {
                assert.match(err.message, /app server app-g1-0 did not start after 3 attempts/);
                assert.match(err.message, /Cannot find module/);
                return true;
            });
            assert.deepEqual(readdirSync(join(stateDir, "servers")), []);
        });

        it("starts fast (create: release, spawn, port open)", async () => {
            const times: number[] = [];
            for (let i = 0; i < 5; i++) {
                const started = process.hrtime.bigint();
                const { id, outs } = await appServer.create(serverInputs());
                times.push(Number(process.hrtime.bigint() - started) / 1e6);
                await appServer.delete?.(id, outs as AppServerOutputs);
            }
            console.log(`      LocalAppServer create (release, spawn, port open), ms: ${times.map((t) => t.toFixed(0)).join(", ")}; median ${median(times).toFixed(0)}`);
            assert.ok(median(times) < 2000);
        });
    });

    describe("Snapshot", () => {
        it("create initializes the volume and copies it; delete leaves the copy; read sees a removed copy as gone", async () => {
            const inputs = { volumeDir: join(stateDir, "volume"), snapshotsDir: join(stateDir, "snapshots"), migrationVersion: "0002" };
            const { id, outs } = await snapshot.create(inputs);
            const snap = outs as SnapshotOutputs;
            assert.equal(id, snap.snapshotId);
            assert.deepEqual(readDatabase(join(snap.path, DATABASE_FILE)), readDatabase(join(inputs.volumeDir, DATABASE_FILE)));
            assert.ok(snap.bytes > 0);
            assert.ok(!Number.isNaN(Date.parse(snap.createdAt)));
            await snapshot.delete?.(id, snap);
            assert.ok(existsSync(join(snap.path, DATABASE_FILE)), "delete keeps the snapshot");
            assert.deepEqual((await snapshot.read?.(id, snap))?.inputs, inputs);
            rmSync(snap.path, { recursive: true });
            assert.deepEqual(await snapshot.read?.(id, snap), {});
        });
    });

    describe("Command", () => {
        it("runs without a shell, in cwd, with env; reruns on update only when triggers change", async () => {
            const counter = join(stateDir, "runs.txt");
            const script = "require('fs').appendFileSync(process.env.COUNTER, 'run\\n'); console.log('cwd=' + process.cwd() + ' arg=' + process.argv[1])";
            const inputs = { argv: [process.execPath, "-e", script, "$(touch /tmp/x); `id`"], env: { COUNTER: counter }, cwd: stateDir, triggers: ["a"] };
            const { id, outs } = (await command.create(inputs)) as { id: string; outs: CommandOutputs };
            assert.equal(outs.exitCode, 0);
            assert.equal(outs.stdout, `cwd=${stateDir} arg=$(touch /tmp/x); \`id\`\n`);
            const again = await command.update?.(id, outs, { ...inputs, argv: [...inputs.argv, "extra"] });
            assert.equal(readFileSync(counter, "utf8"), "run\n", "no rerun without a trigger change");
            assert.equal(again?.outs?.stdout, outs.stdout);
            await command.update?.(id, outs, { ...inputs, triggers: ["b"] });
            assert.equal(readFileSync(counter, "utf8"), "run\nrun\n");
        });

        it("fails with the command, its exit code and the last 20 lines of stderr", async () => {
            const script = "for (let i = 1; i <= 30; i++) console.error('line ' + i); process.exit(3)";
            await assert.rejects(command.create({ argv: [process.execPath, "-e", script] }), (err: Error) => {
                assert.match(err.message, /^command \[".*node","-e",.*\] exited with code 3; last 20 lines of stderr:\n/);
                assert.match(err.message, /\nline 11\n(line \d+\n){18}line 30$/);
                assert.doesNotMatch(err.message, /line 10\n/);
                return true;
            });
        });

        it("fails clearly when the program does not exist", async () => {
            await assert.rejects(command.create({ argv: [join(stateDir, "nope")] }), /could not be run: spawn .*nope ENOENT/);
        });

        it("passes only the basic environment and env", async () => {
            const argv = [process.execPath, "-e", "console.log(Object.keys(process.env).sort().join(','))"];
            const { outs } = (await command.create({ argv, env: { ONLY: "1" } })) as { outs: CommandOutputs };
            const keys = outs.stdout.trim().split(",");
            assert.ok(keys.includes("ONLY") && keys.includes("PATH"), outs.stdout);
            assert.ok(!keys.some((k: string) => k.startsWith("PULUMI_")), outs.stdout);
        });
    });
});
