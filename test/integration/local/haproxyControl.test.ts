/**
 * A local load balancer reloaded and restarted the three ways production tooling does it
 * (src/targets/local/haproxyControl.ts), with real HAProxy and two real HTTP servers: what is in the
 * servers file survives, what was only added at run time does not, every kind brings a new worker,
 * requests in flight finish, and a steady request loop sees no failure. Then the provider's delete after
 * a reload or restart, and a load balancer killed for good.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderServerLine, renderServersFile } from "../../../src/haproxy/serversFile";
import {
    PID_FILE,
    adminCommand,
    currentMaster,
    killLoadBalancer,
    markedProcesses,
    readMarker,
    reloadLoadBalancer,
    workerPid,
    type ReloadKind,
} from "../../../src/targets/local/haproxyControl";
import { freePort } from "../../../lab/ports";
import loadBalancer, { type LoadBalancerInputs, type LoadBalancerOutputs } from "../../../src/targets/local/loadBalancerProvider";
import { requireHaproxy, startHaproxy } from "../../../lab/haproxy";
import { startHttpServer, type TestHttpServer } from "../../../lab/httpServer";
import { waitFor } from "../../../lab/wait";
import { httpGet, killProcessesUsing, processesUsing } from "../../../lab/localProcesses";

const KINDS: ReloadKind[] = ["master", "seamless", "restart"];
const ROOT = join(__dirname, "..", "..", "..");

/** Servers in `show servers state <backend>`, by name, with their operational state (2 = UP). */
async function serversOf(lb: LoadBalancerOutputs): Promise<Map<string, number>> {
    const state = await adminCommand(join(lb.dir, "admin.sock"), `show servers state ${lb.backend}`);
    const servers = new Map<string, number>();
    for (const line of state.split("\n").slice(2)) {
        const f = line.split(" ");
        if (f.length > 5) servers.set(f[3], Number(f[5]));
    }
    return servers;
}

/** A servers file holding `server` as the plugin writes it. */
function serversFileWith(lb: Pick<LoadBalancerOutputs, "backend">, server: TestHttpServer): string {
    const line = renderServerLine({
        name: server.name,
        address: server.host,
        port: server.port,
        weight: 1,
        check: { enabled: true, inter: 100, rise: 1, fall: 1 },
        options: {},
        state: "ready",
    });
    return renderServersFile({ backend: lb.backend, backendDefaults: `backend-${lb.backend}` }, new Map([[server.name, line]]));
}

/** Short GETs at a steady rate over keep-alive connections, as clients send them; bounded in count and time. */
class RequestLoop {
    readonly failures: string[] = [];
    answered = 0;
    private running = true;
    private readonly done: Promise<void>[] = [];
    private readonly agents: Agent[] = [];
    private readonly startedAt = Date.now();

    constructor(url: string, ratePerSecond: number, maxRequests: number, maxMs: number) {
        const clients = 4;
        const intervalMs = (1000 * clients) / ratePerSecond;
        let sent = 0;
        for (let c = 0; c < clients; c++) {
            const agent = new Agent({ keepAlive: true, maxSockets: 1 });
            this.agents.push(agent);
            this.done.push(
                (async () => {
                    await new Promise((r) => setTimeout(r, (intervalMs / clients) * c));
                    while (this.running && sent < maxRequests && Date.now() - this.startedAt < maxMs) {
                        sent++;
                        const began = Date.now();
                        const error = await this.get(agent, url);
                        if (error) this.failures.push(`${new Date(began).toISOString()} ${error}`);
                        else this.answered++;
                        await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - began))));
                    }
                })(),
            );
        }
    }

    /** One GET; resolves with an error message, or undefined for a 200. */
    private get(agent: Agent, url: string): Promise<string | undefined> {
        return new Promise((resolve) => {
            const req = request(url, { agent, timeout: 10_000 }, (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
                res.on("error", (err) => resolve(err.message));
            });
            req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
            req.on("error", (err) => resolve(err.message));
            req.end();
        });
    }

    /** Stops sending, waits for the requests in flight; resolves with the requests per second reached. */
    async stop(): Promise<number> {
        this.running = false;
        await Promise.all(this.done);
        this.agents.forEach((a) => a.destroy());
        return (this.answered + this.failures.length) / ((Date.now() - this.startedAt) / 1000);
    }
}

describe("local load balancer: reloads and restarts as production tooling does them", function () {
    this.timeout(120_000);

    let stateDir: string;
    let servers: TestHttpServer[];

    before(async () => {
        requireHaproxy();
        servers = await Promise.all(["a", "b"].map((name) => startHttpServer(name)));
    });

    after(async () => {
        await Promise.all((servers ?? []).map((s) => s.stop()));
    });

    beforeEach(() => {
        stateDir = mkdtempSync(join(tmpdir(), "bg-lbctl-"));
    });

    afterEach(() => {
        killProcessesUsing(stateDir);
        rmSync(stateDir, { recursive: true, force: true });
    });

    async function inputs(name = "lb1"): Promise<LoadBalancerInputs> {
        return {
            name,
            stateDir,
            frontendPort: await freePort(),
            backend: "app",
            healthCheck: { path: "/health", expectedStatus: 200, intervalMs: 100, rise: 1, fall: 1 },
        };
    }

    /** A load balancer whose servers file holds server `a` before HAProxy first starts. */
    async function createWithServerA(): Promise<LoadBalancerOutputs> {
        const lbInputs = await inputs();
        const dir = join(stateDir, "lb", lbInputs.name);
        mkdirSync(join(dir, "servers"), { recursive: true });
        writeFileSync(join(dir, "servers", "app.cfg"), serversFileWith(lbInputs, servers[0]));
        const lb = (await loadBalancer.create(lbInputs)).outs as LoadBalancerOutputs;
        await waitFor(async () => ((await serversOf(lb)).get("a") === 2 ? true : undefined), { what: "server a UP" });
        return lb;
    }

    /** Adds server `b` at run time only (not to the servers file), health-checked and ready, and waits until it is UP. */
    async function addRuntimeOnly(lb: LoadBalancerOutputs): Promise<void> {
        const socket = join(lb.dir, "admin.sock");
        const b = servers[1];
        for (const command of [`add server app/b ${b.host}:${b.port} check inter 100 rise 1 fall 1`, "enable health app/b", "set server app/b state ready"]) {
            const reply = await adminCommand(socket, command);
            assert.ok(!/error|unknown|not found|invalid/i.test(reply), `${command}: ${reply}`);
        }
        await waitFor(async () => ((await serversOf(lb)).get("b") === 2 ? true : undefined), { what: "runtime server b UP" });
    }

    it("keeps the servers file's server and loses a runtime-only one through each kind, with a new worker each time, requests in flight completing and a steady request loop never failing", async function () {
        const lb = await createWithServerA();
        assert.equal(readFileSync(lb.serversFile, "utf8"), serversFileWith(lb, servers[0]), "create kept the existing servers file");
        const loop = new RequestLoop(lb.frontendUrl, 150, 20_000, 90_000);
        try {
            for (const kind of KINDS) {
                await addRuntimeOnly(lb);
                const masterBefore = (await currentMaster(lb.dir, lb.marker));
                const slow = httpGet(`${lb.frontendUrl}slow?ms=2000`, 10_000);
                await new Promise((r) => setTimeout(r, 300)); // in flight on the old worker
                const { before, after } = await reloadLoadBalancer(lb.dir, kind);

                assert.notEqual(after, before, `${kind}: a new worker`);
                assert.equal(await workerPid(lb.dir), after);
                const masterAfter = (await currentMaster(lb.dir, lb.marker));
                assert.ok(masterAfter !== undefined, `${kind}: the pid file names a live master`);
                if (kind === "master") assert.equal(masterAfter, masterBefore, "USR2 keeps the master");
                else assert.notEqual(masterAfter, masterBefore, `${kind}: a new master`);

                const after_ = await serversOf(lb);
                assert.equal(after_.has("b"), false, `${kind}: the runtime-only server is gone`);
                assert.equal(after_.get("a"), 2, `${kind}: the servers file's server is back, UP from the saved state`);
                assert.equal((await httpGet(lb.frontendUrl)).body, "a");

                const answer = await slow;
                assert.equal(answer.status, 200, `${kind}: the slow request in flight completed`);
            }
        } finally {
            const rate = await loop.stop();
            console.log(`      request loop: ${loop.answered} answered, ${loop.failures.length} failed, ${rate.toFixed(0)} requests/s`);
            assert.deepEqual(loop.failures, [], "no request of the loop failed");
            assert.ok(rate >= 100, `at least 100 requests/s (got ${rate.toFixed(0)})`);
        }
    });

    for (const kind of KINDS) {
        it(`delete after a ${kind} reload, with the old worker still finishing a request, leaves no process behind`, async () => {
            const lb = await createWithServerA();
            const slow = httpGet(`${lb.frontendUrl}slow?ms=5000`, 10_000).catch((err: Error) => ({ status: 0, body: err.message }));
            await new Promise((r) => setTimeout(r, 300));
            await reloadLoadBalancer(lb.dir, kind);
            assert.ok(markedProcesses(lb.marker).length >= 3, "old and new processes run side by side while the old worker finishes");
            await loadBalancer.delete?.(lb.marker, lb);
            assert.deepEqual(markedProcesses(lb.marker), []);
            assert.deepEqual(processesUsing(stateDir), [], "no haproxy process of this load balancer is left");
            assert.equal(existsSync(lb.dir), false);
            await slow;
        });
    }

    it("read follows the master through the pid file after a restart outside Pulumi, and refuses a pid file naming another process", async () => {
        const lb = await createWithServerA();
        const { after } = await reloadLoadBalancer(lb.dir, "restart");
        const read = await loadBalancer.read?.(lb.marker, lb);
        const props = read?.props as LoadBalancerOutputs;
        assert.equal(props.pid, after);
        assert.equal(props.masterPid, (await currentMaster(lb.dir, lb.marker)));
        assert.notEqual(props.masterPid, lb.masterPid);
        // A pid file naming a live process that is not this load balancer's: it is not taken for the master.
        writeFileSync(join(lb.dir, PID_FILE), `${process.pid}\n`);
        assert.deepEqual(await loadBalancer.read?.(lb.marker, lb), {});
        await loadBalancer.delete?.(lb.marker, lb);
        assert.deepEqual(markedProcesses(lb.marker), []);
        assert.ok(processesUsing(stateDir).length === 0);
    });

    it("a load balancer killed for good: every process gone, files left, read sees it gone, a new create serves the servers file again", async () => {
        const lb = await createWithServerA();
        await reloadLoadBalancer(lb.dir, "seamless");
        const killed = await killLoadBalancer(lb.dir);
        // The master at least; a worker may exit by itself as soon as its master is gone, before it is signalled.
        assert.ok(killed.length >= 1, `the master killed: ${killed}`);
        assert.deepEqual(markedProcesses(readMarker(lb.dir)), []);
        assert.ok(existsSync(lb.serversFile) && existsSync(lb.configPath), "files stay");
        assert.deepEqual(await loadBalancer.read?.(lb.marker, lb), {});
        const again = (await loadBalancer.create(pickInputs(lb))).outs as LoadBalancerOutputs;
        await waitFor(async () => ((await serversOf(again)).get("a") === 2 ? true : undefined), { what: "server a UP again" });
        assert.equal((await httpGet(again.frontendUrl)).body, "a");
        await loadBalancer.delete?.(again.marker, again);
        assert.deepEqual(processesUsing(stateDir), []);
    });

    it("scripts/lb.ts (npm run lb) reloads, seamlessly reloads and restarts a local stack's load balancer by name", async () => {
        const stack = "lbtest";
        const lbInputs = { ...(await inputs()), stateDir: join(stateDir, "local", stack) };
        const lb = (await loadBalancer.create(lbInputs)).outs as LoadBalancerOutputs;
        for (const action of ["reload", "seamless-reload", "restart"]) {
            const before = await workerPid(lb.dir);
            const run = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), join(ROOT, "scripts", "lb.ts"), action, "lb1", "--stack", stack], {
                cwd: ROOT,
                env: { ...process.env, BLUEGREEN_STATE: stateDir },
                encoding: "utf8",
            });
            assert.equal(run.status, 0, run.stderr);
            const after = await workerPid(lb.dir);
            assert.notEqual(after, before);
            assert.match(run.stdout, new RegExp(`^${action} of load balancer lb1 \\(stack ${stack}\\): worker ${before} -> ${after} in \\d+ ms$`, "m"));
        }
        const wrong = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), join(ROOT, "scripts", "lb.ts"), "reboot", "lb1"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(wrong.status, 1);
        assert.match(wrong.stderr, /usage: npm run lb -- reload\|seamless-reload\|restart <lb-name> \[--stack local\]/);
        await loadBalancer.delete?.(lb.marker, lb);
    });

    it("the test harness (lab/haproxy.ts) has the same shape and reloads through the same code", async () => {
        const harness = await startHaproxy();
        try {
            assert.equal(harness.backendDefaults, "backend-app");
            assert.equal(harness.serversFile, join(harness.dir, "servers", "app.cfg"));
            assert.equal(harness.masterSocket, join(harness.dir, "master.sock"));
            assert.doesNotMatch(readFileSync(harness.configPath, "utf8"), /http-server-close/);
            writeFileSync(harness.serversFile, serversFileWith(harness, servers[0]));
            for (const kind of [...KINDS, undefined]) {
                const pid = harness.pid;
                await adminCommand(harness.adminSocket, `add server app/b ${servers[1].host}:${servers[1].port}`);
                await harness.reload(kind);
                assert.notEqual(harness.pid, pid, `${kind ?? "no argument"}: a new worker`);
                assert.match(await adminCommand(harness.adminSocket, "show info"), new RegExp(`^Pid: ${harness.pid}$`, "m"));
                const state = await adminCommand(harness.adminSocket, "show servers state app");
                assert.match(state, /^\d+ app \d+ a /m, `${kind ?? "no argument"}: the servers file's server is loaded`);
                assert.doesNotMatch(state, /^\d+ app \d+ b /m, `${kind ?? "no argument"}: the runtime-only server is lost`);
            }
            // "New worker (<pid>) forked" up to HAProxy 3.0, "Initializing new worker (<pid>)" from 3.1 on.
            assert.match(harness.output, new RegExp(`(New|Initializing new) worker \\(${harness.pid}\\)`));
        } finally {
            await harness.stop();
        }
        assert.equal(existsSync(harness.dir), false);
        assert.deepEqual(processesUsing(harness.dir), []);
    });

    it("a reload that cannot start a new worker fails clearly and leaves the serving one", async () => {
        const lb = await createWithServerA();
        const worker = await workerPid(lb.dir);
        writeFileSync(lb.configPath, `${readFileSync(lb.configPath, "utf8")}\nfrontend broken\n    bind 127.0.0.1:notaport\n`);
        await assert.rejects(reloadLoadBalancer(lb.dir, "seamless", { timeoutMs: 5000 }), /seamless reload of the load balancer in .* failed: .*the master \d+ exited/s);
        assert.equal(await workerPid(lb.dir), worker);
        assert.equal((await httpGet(lb.frontendUrl)).body, "a");
        await loadBalancer.delete?.(lb.marker, lb);
    });
});

function pickInputs(lb: LoadBalancerOutputs): LoadBalancerInputs {
    return { name: lb.name, stateDir: lb.stateDir, frontendPort: lb.frontendPort, backend: lb.backend, healthCheck: lb.healthCheck };
}
