/**
 * Starting, reloading, restarting and stopping a local load balancer's HAProxy the way an operator's
 * tooling does it to a production one, so that the lab is as hostile as production: whatever the
 * plugin added at run time only survives what it also wrote into the files HAProxy loads.
 *
 * HAProxy (the version `BLUEGREEN_HAPROXY_VERSION` selects, src/targets/local/haproxyBinary.ts) runs in
 * master-worker mode, as Debian's systemd unit runs it:
 *   haproxy -W -db -p <dir>/haproxy.pid -S <dir>/master.sock -f <dir>/haproxy.cfg -f <dir>/servers
 * The master is started detached (src/targets/local/processes.ts) with the load balancer's marker,
 * which its workers and every master started later for it inherit; the marker is also kept in
 * `<dir>/marker`. Every process is looked up through the marker before it is signalled, and the
 * current master through the pid file (a reload or restart done outside Pulumi changes it).
 *
 * The three ways a production HAProxy gets new processes (`reloadLoadBalancer`), each after saving
 * `show servers state` into the server-state file, as a reload hook does:
 *   master    USR2 to the master: it re-executes itself, starts a new worker that takes the listening
 *             sockets over, and soft-stops the old one (= `systemctl reload haproxy` with the Debian unit).
 *   seamless  a new master with the same arguments plus `-x <admin socket> -sf <old master pid>`: it
 *             takes the listening sockets over from the old worker and soft-stops the old master, whose
 *             worker finishes its requests (= the classic `haproxy -sf $(cat pidfile)` reload).
 *   restart   a brand-new master without `-sf` (nothing handed over: it binds its own sockets, next to
 *             the old ones, with SO_REUSEPORT); once it serves, SIGUSR1 to the old master, a graceful
 *             stop in which the old worker finishes the requests in flight (= a restart with a graceful
 *             stop). A hard restart (SIGTERM, `systemctl restart`) drops the connections in flight
 *             whatever the plugin does: no configuration or runtime change can save those.
 * Each waits, bounded, until the admin socket answers from a new worker and the frontend port accepts
 * connections.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { haproxyCommand } from "./haproxyBinary";
import { ADMIN_SOCKET, CONFIG_FILE, MASTER_SOCKET, SERVERS_DIR, SERVER_STATE_FILE } from "./haproxyConfig";
import { parseProcessInfo } from "../../haproxy/runtime/parsers";
import { baseEnvironment, exitedFully, isRunning, logTail, startDetached, stopProcess, waitForPort, type StopOutcome } from "./processes";

/** File name of the master's pid file (`-p`) inside the load balancer's folder. */
export const PID_FILE = "haproxy.pid";
/** File name of HAProxy's log (stdout and stderr of every master and worker). */
export const LOG_FILE = "haproxy.log";
/** File name of the marker of the load balancer's processes. */
export const MARKER_FILE = "marker";

/** How a load balancer gets new processes (see the file's comment). */
export type ReloadKind = "seamless" | "master" | "restart";

const RELOAD_KINDS: readonly ReloadKind[] = ["seamless", "master", "restart"];

/** Longest wait for a new worker to answer and serve, in ms. */
const DEFAULT_TIMEOUT_MS = 15_000;
/** Longest wait for one admin socket reply, in ms. */
const QUERY_TIMEOUT_MS = 2_000;
/** Pause between two looks, in ms. */
const POLL_MS = 25;
/** Time between SIGTERM and SIGKILL when stopping, in ms. */
const DEFAULT_STOP_GRACE_MS = 10_000;
/** Longest wait for SIGKILLed processes to disappear, in ms. */
const KILL_WAIT_MS = 5_000;

/**
 * The command line of the load balancer in `dir` (no shell involved), with the HAProxy that
 * `BLUEGREEN_HAPROXY_VERSION` selects (src/targets/local/haproxyBinary.ts).
 */
export function haproxyArgv(dir: string): string[] {
    return [haproxyCommand(), "-W", "-db", "-p", join(dir, PID_FILE), "-S", join(dir, MASTER_SOCKET), "-f", join(dir, CONFIG_FILE), "-f", join(dir, SERVERS_DIR)];
}

/** A fresh marker for a load balancer's processes, e.g. `lb-lb1-0a1b2c3d`. */
export function newMarker(name: string): string {
    return `lb-${name}-${randomBytes(4).toString("hex")}`;
}

export interface WaitOptions {
    /** Longest wait for the new worker, in ms. @default 15000 */
    timeoutMs?: number;
}

/** Pids of the master and the worker serving. */
export interface StartedLoadBalancer {
    masterPid: number;
    workerPid: number;
}

/**
 * Starts the load balancer whose files are in `dir` (configuration, servers folder, server-state
 * file), with `marker`, and waits until its admin socket answers and its frontend ports accept
 * connections. On failure every process it started is stopped and the error carries the log's end.
 */
export async function startLoadBalancer(dir: string, marker: string, options: WaitOptions = {}): Promise<StartedLoadBalancer> {
    await writeFile(join(dir, MARKER_FILE), `${marker}\n`, { mode: 0o600 });
    const masterPid = await startMaster(dir, marker, []);
    try {
        const workerPid = await waitForNewWorker(dir, undefined, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, masterPid, marker);
        return { masterPid, workerPid };
    } catch (err) {
        await stopLoadBalancer(dir, marker, { graceMs: 1000 });
        throw new Error(`HAProxy in ${dir} did not start: ${(err as Error).message}; ${join(dir, LOG_FILE)}:\n${logTail(join(dir, LOG_FILE))}`);
    }
}

/**
 * Gives the load balancer in `dir` new processes, as `kind` describes (see the file's comment), after
 * saving `show servers state` into its server-state file. Resolves with the worker pids before and after.
 */
export async function reloadLoadBalancer(dir: string, kind: ReloadKind, options: WaitOptions = {}): Promise<{ before: number; after: number }> {
    if (!RELOAD_KINDS.includes(kind)) throw new Error(`reload kind ${JSON.stringify(kind)} is not one of ${RELOAD_KINDS.join(", ")}`);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const marker = readMarker(dir);
    const master = await currentMaster(dir, marker);
    if (master === undefined) throw new Error(`load balancer in ${dir} is not running: ${join(dir, PID_FILE)} names no live process of it`);
    const before = await workerPid(dir);
    await saveServerState(dir);
    const failed = (err: unknown) => new Error(`${kind} reload of the load balancer in ${dir} failed: ${(err as Error).message}; ${join(dir, LOG_FILE)}:\n${logTail(join(dir, LOG_FILE))}`);
    if (kind === "master") {
        // A USR2 that arrives while the master executes itself again (just after a start or reload) is lost.
        await masterReady(dir, before, timeoutMs).catch((err) => Promise.reject(failed(err)));
        await signal(master, marker, "SIGUSR2");
        const after = await waitForNewWorker(dir, before, timeoutMs, master, marker).catch((err) => Promise.reject(failed(err)));
        return { before, after };
    }
    const handOver = kind === "seamless" ? ["-x", join(dir, ADMIN_SOCKET), "-sf", String(master)] : [];
    const newMaster = await startMaster(dir, marker, handOver);
    let after: number;
    try {
        after = await waitForNewWorker(dir, before, timeoutMs, newMaster, marker);
    } catch (err) {
        await stopProcess(newMaster, marker, { graceMs: 1000 });
        throw failed(err);
    }
    // restart: the new master serves; the old one stops gracefully (its worker finishes its requests).
    if (kind === "restart") await signal(master, marker, "SIGUSR1");
    return { before, after };
}

/** Saves `show servers state` into the load balancer's server-state file (atomically), as a reload hook does. */
export async function saveServerState(dir: string): Promise<void> {
    const state = await adminCommand(join(dir, ADMIN_SOCKET), "show servers state");
    if (!state.startsWith("1\n")) throw new Error(`show servers state on ${join(dir, ADMIN_SOCKET)}: unsupported output format ${JSON.stringify(state.slice(0, 40))}`);
    const path = join(dir, SERVER_STATE_FILE);
    await writeFile(`${path}.tmp`, state, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
}

/** What stopping a load balancer did to each of its processes, by pid. */
export type StopReport = Map<number, StopOutcome>;

/**
 * Stops every process of the load balancer carrying `marker` (current and old masters, their workers,
 * old ones still finishing their requests): SIGTERM to each master's process group, SIGKILL after
 * `graceMs`; resolves once none is left. Removes nothing.
 */
export async function stopLoadBalancer(dir: string, marker: string, options: { graceMs?: number } = {}): Promise<StopReport> {
    const report: StopReport = new Map();
    const graceMs = options.graceMs ?? DEFAULT_STOP_GRACE_MS;
    for (let round = 0; round < 3; round++) {
        const pids = await settledMarkedProcesses(marker);
        if (pids.length === 0) return report;
        // Masters first (their process group holds their workers), then any worker left on its own.
        const masters = pids.filter((pid) => !pids.includes(parentOf(pid)));
        const outcomes = await Promise.all(masters.map((pid) => stopProcess(pid, marker, { graceMs })));
        masters.forEach((pid, i) => report.set(pid, outcomes[i]));
        for (const pid of markedProcesses(marker).filter((p) => !masters.includes(p))) report.set(pid, await stopProcess(pid, marker, { graceMs }));
    }
    const left = await settledMarkedProcesses(marker);
    if (left.length > 0) throw new Error(`load balancer in ${dir}: processes ${left.join(", ")} (${marker}) still run after stopping`);
    return report;
}

/**
 * SIGKILLs every process of the load balancer in `dir` (a load balancer that dies for good, with no
 * chance to finish anything) and waits until they are gone. Removes nothing: files and sockets stay.
 */
export async function killLoadBalancer(dir: string): Promise<number[]> {
    const marker = readMarker(dir);
    const killed: number[] = [];
    const deadline = Date.now() + KILL_WAIT_MS;
    for (let pids = await settledMarkedProcesses(marker); pids.length > 0; pids = await settledMarkedProcesses(marker)) {
        if (Date.now() >= deadline) throw new Error(`load balancer in ${dir}: processes ${pids.join(", ")} survive SIGKILL`);
        for (const pid of pids.filter((p) => !killed.includes(p))) {
            if (await signalIfOurs(pid, marker, "SIGKILL")) killed.push(pid);
        }
        await sleep(POLL_MS);
    }
    return killed;
}

/** The marker of the load balancer in `dir`, from `<dir>/marker`. */
export function readMarker(dir: string): string {
    const path = join(dir, MARKER_FILE);
    let marker: string;
    try {
        marker = readFileSync(path, "utf8").trim();
    } catch (err) {
        throw new Error(`no load balancer in ${dir}: cannot read ${path} (${(err as Error).message})`);
    }
    if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(marker)) throw new Error(`${path} holds no marker`);
    return marker;
}

/** The current master: the pid in the pid file, if that process is live and carries `marker`. */
export async function currentMaster(dir: string, marker: string): Promise<number | undefined> {
    let text: string;
    try {
        text = readFileSync(join(dir, PID_FILE), "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
    }
    const pid = Number(text.trim());
    return Number.isInteger(pid) && pid > 0 && (await carriesMarker(pid, marker)) ? pid : undefined;
}

/** The current workers the master lists on its CLI (`show proc`, section `# workers`). */
export async function masterWorkers(dir: string): Promise<number[]> {
    const reply = await adminCommand(join(dir, MASTER_SOCKET), "show proc");
    const section = reply.split(/^# workers\s*$/m)[1];
    if (section === undefined) throw new Error(`show proc on ${join(dir, MASTER_SOCKET)} has no "# workers" section: ${JSON.stringify(reply.slice(0, 80))}`);
    return [...section.split(/^#/m)[0].matchAll(/^(\d+)\s+worker\b/gm)].map((m) => Number(m[1]));
}

/** Waits until the master's CLI answers and lists `worker` as current. */
async function masterReady(dir: string, worker: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    for (;;) {
        try {
            const workers = await masterWorkers(dir);
            if (workers.includes(worker)) return;
            last = `current workers ${workers.join(", ") || "none"}`;
        } catch (err) {
            last = (err as Error).message;
        }
        if (Date.now() >= deadline) throw new Error(`the master did not list worker ${worker} on ${join(dir, MASTER_SOCKET)} within ${timeoutMs} ms (${last})`);
        await sleep(POLL_MS);
    }
}

/** Pid of the worker answering on the admin socket (`show info`). */
export async function workerPid(dir: string): Promise<number> {
    const socket = join(dir, ADMIN_SOCKET);
    return parseProcessInfo(await adminCommand(socket, "show info")).pid;
}

/**
 * `markedProcesses`, looked at until two looks `POLL_MS` apart agree that none is left: a master that
 * executes itself again shows no environment for a moment.
 */
async function settledMarkedProcesses(marker: string): Promise<number[]> {
    const pids = markedProcesses(marker);
    if (pids.length > 0) return pids;
    await sleep(POLL_MS);
    return markedProcesses(marker);
}

/** Live processes (zombies excluded) whose environment carries `marker`, from /proc. */
export function markedProcesses(marker: string): number[] {
    return readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .map(Number)
        .filter((pid) => isRunning(pid, marker));
}

/** The 127.0.0.1 ports the configuration in `dir` binds (`bind 127.0.0.1:<port>` lines). */
export async function frontendPorts(dir: string): Promise<number[]> {
    const config = await readFile(join(dir, CONFIG_FILE), "utf8");
    return [...config.matchAll(/^\s*bind\s+127\.0\.0\.1:(\d+)\b/gm)].map((m) => Number(m[1]));
}

function startMaster(dir: string, marker: string, extra: string[]): Promise<number> {
    return startDetached({ argv: [...haproxyArgv(dir), ...extra], env: baseEnvironment(), cwd: dir, logPath: join(dir, LOG_FILE), marker });
}

/** Sends `sig` to `pid` if it still carries `marker`; throws if it does not. */
async function signal(pid: number, marker: string, sig: NodeJS.Signals): Promise<void> {
    if (!(await signalIfOurs(pid, marker, sig))) throw new Error(`process ${pid} is no longer a process of ${marker}: not signalled`);
}

/** Sends `sig` to `pid` if it carries `marker`; resolves whether it was sent. */
async function signalIfOurs(pid: number, marker: string, sig: NodeJS.Signals): Promise<boolean> {
    if (!(await carriesMarker(pid, marker))) return false;
    try {
        process.kill(pid, sig);
        return true;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
        throw err;
    }
}

/** Longest time a live process may show no environment (while it executes itself again), in ms. */
const EXEC_WINDOW_MS = 1000;

/**
 * Whether `pid` carries `marker`. A master executes itself again at start and at every USR2 reload, and
 * while it does, /proc shows no environment for a moment: a live process without one is looked at again
 * for up to `EXEC_WINDOW_MS`.
 */
export async function carriesMarker(pid: number, marker: string): Promise<boolean> {
    const deadline = Date.now() + EXEC_WINDOW_MS;
    while (!isRunning(pid, marker)) {
        if (!!exitedFully(pid) || Date.now() >= deadline) return false;
        await sleep(POLL_MS);
    }
    return true;
}

/** The parent pid of `pid` (0 if it is gone). */
function parentOf(pid: number): number {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
        return 0; // exited while we looked
    }
}

/**
 * Waits until the admin socket answers from a worker other than `previous`, `master` lists that worker
 * on its CLI (it is then done starting, and takes signals: a USR2 sent while a master executes itself
 * again is lost), and every frontend port accepts connections. Fails after `timeoutMs`, or as soon as
 * `master` is gone.
 */
async function waitForNewWorker(dir: string, previous: number | undefined, timeoutMs: number, master: number, marker: string): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    for (;;) {
        if (!(await carriesMarker(master, marker))) throw new Error(`the master ${master} exited (last look at the admin socket: ${last})`);
        try {
            const pid = await workerPid(dir);
            if (pid !== previous && (await masterWorkers(dir)).includes(pid)) {
                for (const port of await frontendPorts(dir)) await waitForPort("127.0.0.1", port, Math.max(deadline - Date.now(), 1), () => !exitedFully(master));
                return pid;
            }
            last = pid === previous ? `still worker ${pid}` : `worker ${pid} not yet listed by the master`;
        } catch (err) {
            last = (err as Error).message;
        }
        if (Date.now() >= deadline) throw new Error(`no new worker answered ${join(dir, ADMIN_SOCKET)} within ${timeoutMs} ms (${last})`);
        await sleep(POLL_MS);
    }
}

/** Sends one command to an admin socket and returns the whole reply; bounded by `QUERY_TIMEOUT_MS`. */
export function adminCommand(socketPath: string, command: string): Promise<string> {
    if (/[;\n\r]/.test(command)) return Promise.reject(new Error(`refusing to send ${JSON.stringify(command)}: one command per call`));
    return new Promise((resolve, reject) => {
        const socket = connect(socketPath);
        let reply = "";
        socket.setEncoding("utf8");
        socket.setTimeout(QUERY_TIMEOUT_MS, () => socket.destroy(new Error(`"${command}" on ${socketPath}: no reply within ${QUERY_TIMEOUT_MS} ms`)));
        socket.on("data", (chunk: string) => (reply += chunk));
        socket.on("error", (err) => reject(new Error(`"${command}" on ${socketPath}: ${err.message}`)));
        socket.on("end", () => resolve(reply));
        // Half-close after the command: the master CLI answers only then (the admin socket either way).
        socket.end(`${command}\n`);
    });
}

