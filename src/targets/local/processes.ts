/**
 * Long-lived local processes of the `local` target (HAProxy, app servers, PostgreSQL) and the waits around them.
 *
 * A process is started detached, in a process group of its own, with its output appended to a log file,
 * so it outlives the `pulumi up` that started it. It carries a marker in its environment
 * (`BLUEGREEN_MARKER=<marker>`); every later look at the pid checks `/proc/<pid>/environ` for it, so a
 * pid that the kernel gave to another process since is never taken for ours, nor signalled.
 */
import { spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { connect, createServer, type NetConnectOpts } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { mkdir, rm } from "node:fs/promises";

/** The environment variable holding a process's marker. */
export const MARKER_VARIABLE = "BLUEGREEN_MARKER";

/** Pause between two looks at a process or a port, in ms. */
const POLL_MS = 25;

/** What the started processes inherit from ours; the rest (Pulumi credentials among it) stays behind. */
const INHERITED = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/** The inherited part of this process's environment, with `env` on top. */
export function baseEnvironment(env: Record<string, string> = {}): Record<string, string> {
    const inherited = INHERITED.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k] as string]]));
    return { ...Object.fromEntries(inherited), ...env };
}

export interface DetachedSpec {
    /** Program and arguments; no shell is involved. */
    argv: string[];
    /** The whole environment of the process (see `baseEnvironment`); the marker is added. */
    env: Record<string, string>;
    cwd: string;
    /** stdout and stderr are appended to this file. */
    logPath: string;
    /** Identifies the process later (`isRunning`, `stopProcess`); unique per process. */
    marker: string;
}

/** Starts a detached process that outlives this one and returns its pid. Throws if it cannot be spawned. */
export async function startDetached(spec: DetachedSpec): Promise<number> {
    const log = openSync(spec.logPath, "a", 0o600);
    try {
        const child = spawn(spec.argv[0], spec.argv.slice(1), {
            cwd: spec.cwd,
            env: { ...spec.env, [MARKER_VARIABLE]: spec.marker },
            detached: true,
            stdio: ["ignore", log, log],
        });
        await new Promise<void>((resolve, reject) => {
            child.once("spawn", resolve);
            child.once("error", (err) => reject(new Error(`cannot start ${JSON.stringify(spec.argv)}: ${err.message}`)));
        });
        child.unref();
        return child.pid as number;
    } finally {
        closeSync(log);
    }
}

/**
 * Creates the local target's state folder (and its missing parents) passable for others (0711: entered,
 * not listed): the `postgres` user that runs the local PostgreSQL must get through it to its cluster.
 * Every provider calls this before creating its own, private (0700) folders inside.
 */
export async function makeStateDir(stateDir: string): Promise<void> {
    await mkdir(stateDir, { recursive: true, mode: 0o711 });
}

/** Whether `pid` is a live process (not a zombie) whose environment holds `marker`. */
export function isRunning(pid: number, marker: string): boolean {
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`${MARKER_VARIABLE}=${marker}`);
    } catch (err) {
        // ENOENT/ESRCH: no such process; EACCES: another user's process, so not ours.
        if (["ENOENT", "ESRCH", "EACCES"].includes((err as NodeJS.ErrnoException).code ?? "")) return false;
        throw err;
    }
}

export interface StopOptions {
    /** Time between the stop signal and SIGKILL, in ms. @default 30000 */
    graceMs?: number;
    /** The signal that asks the process to stop (PostgreSQL: SIGINT, its fast shutdown). @default "SIGTERM" */
    signal?: NodeJS.Signals;
}

/** How a process stopped. */
export type StopOutcome = "not-running" | "terminated" | "killed";

/** Longest wait for the kernel to remove a process after SIGKILL, in ms. */
const KILL_WAIT_MS = 5000;

/**
 * Stops the marked process and its process group: SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once it
 * is gone. A pid that is not running with `marker` is left alone. Throws if the process survives SIGKILL.
 */
export async function stopProcess(pid: number, marker: string, options: StopOptions = {}): Promise<StopOutcome> {
    if (!isRunning(pid, marker)) return "not-running";
    signalGroup(pid, options.signal ?? "SIGTERM");
    if (await exited(pid, marker, options.graceMs ?? 30_000)) return "terminated";
    signalGroup(pid, "SIGKILL");
    if (await exited(pid, marker, KILL_WAIT_MS)) return "killed";
    throw new Error(`process ${pid} (${marker}) is still running ${KILL_WAIT_MS} ms after SIGKILL`);
}

/** Stops a process of `startDetached` (as `stopProcess`), then removes the folder it lived in. */
export async function stopAndRemove(pid: number, marker: string, dir: string, options: StopOptions = {}): Promise<StopOutcome> {
    const outcome = await stopProcess(pid, marker, options);
    await rm(dir, { recursive: true, force: true });
    return outcome;
}

/** Signals the process group led by `pid` (detached processes lead their own), else the process alone. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pid, signal);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
        try {
            process.kill(pid, signal);
        } catch (inner) {
            if ((inner as NodeJS.ErrnoException).code !== "ESRCH") throw inner;
        }
    }
}

/** Longest wait, once its marker is gone, for an exiting process to release its sockets and ports. */
const EXIT_SETTLE_MS = 2000;

async function exited(pid: number, marker: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (isRunning(pid, marker)) {
        if (Date.now() >= deadline) return false;
        await sleep(POLL_MS);
    }
    // The environment (and so the marker) goes first while a process exits; its sockets and ports are
    // released only when it is gone or a zombie. Wait for that, briefly (the pid could be reused).
    const settle = Date.now() + EXIT_SETTLE_MS;
    while (!exitedFully(pid) && Date.now() < settle) await sleep(POLL_MS);
    return true;
}

/** Whether `pid` no longer exists or is a zombie (state Z or X in /proc/<pid>/stat). */
export function exitedFully(pid: number): boolean {
    try {
        return /\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "latin1"));
    } catch {
        return true;
    }
}

/** Binds `port` (0: any) on 127.0.0.1 exclusively, then closes it; resolves the port bound. */
function probeListen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = createServer();
        probe.once("error", reject);
        probe.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
            const bound = (probe.address() as { port: number }).port;
            probe.close(() => resolve(bound));
        });
    });
}

/** A TCP port that the kernel reported free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
    return probeListen(0);
}

/** Whether `port` can be bound on 127.0.0.1 now (false if anything, even with SO_REUSEPORT, holds it). */
export async function isPortFree(port: number): Promise<boolean> {
    try {
        await probeListen(port);
        return true;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") return false;
        throw err;
    }
}

/** Whether a connection to `target` is accepted now. */
function accepts(target: NetConnectOpts): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = connect(target);
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
    });
}

/**
 * Polls until `target` accepts a connection. Fails after `timeoutMs`, or as soon as `alive()` (when given)
 * returns false, with `what` in the message.
 */
async function waitForConnection(target: NetConnectOpts, what: string, timeoutMs: number, alive?: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await accepts(target))) {
        if (alive && !alive()) throw new Error(`${what}: the process exited before accepting connections`);
        if (Date.now() >= deadline) throw new Error(`${what}: no connection accepted within ${timeoutMs} ms`);
        await sleep(POLL_MS);
    }
}

/** Waits until `host:port` accepts TCP connections (see `waitForConnection`). */
export function waitForPort(host: string, port: number, timeoutMs: number, alive?: () => boolean): Promise<void> {
    return waitForConnection({ host, port }, `${host}:${port}`, timeoutMs, alive);
}

/** Waits until the UNIX socket at `path` accepts connections (see `waitForConnection`). */
export function waitForUnixSocket(path: string, timeoutMs: number, alive?: () => boolean): Promise<void> {
    return waitForConnection({ path }, path, timeoutMs, alive);
}

/** The last `count` non-empty lines of `text`. */
export function lastLines(text: string, count: number): string {
    return text.split("\n").filter((line) => line.trim() !== "").slice(-count).join("\n");
}

/** How much of the end of a log file `logTail` reads, in bytes. */
const TAIL_BYTES = 16_384;

/** The last `count` lines of a log file (from its last 16 KB), or a note that it cannot be read. */
export function logTail(path: string, count = 20): string {
    try {
        const fd = openSync(path, "r");
        try {
            const size = fstatSync(fd).size;
            const buffer = Buffer.alloc(Math.min(size, TAIL_BYTES));
            readSync(fd, buffer, 0, buffer.length, size - buffer.length);
            return lastLines(buffer.toString("utf8"), count);
        } finally {
            closeSync(fd);
        }
    } catch (err) {
        return `(log ${path} unreadable: ${(err as Error).message})`;
    }
}
