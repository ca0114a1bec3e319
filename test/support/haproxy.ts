/**
 * Test harness: a real HAProxy process on loopback ports with a config of its own in a temp dir.
 *
 * The config keeps HTTP keep-alive towards clients but uses `option http-server-close` towards
 * servers: a client may send many requests on one connection (each balanced on its own), and a
 * server's connection is closed as soon as its response is sent, so a drained server has no
 * connection left once its in-flight requests finish (no idle pooled connection keeps `del server`
 * waiting for `pool-purge-delay`). `timeout server` is 30 s so long requests finish.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports";
import { requireBinary, startProcess, type TestProcess } from "./process";

export interface HaproxyOptions {
    /** Name of the backend (roundrobin, `option httpchk GET /health`, no static servers). @default "app" */
    backend?: string;
    /** Frontend port on 127.0.0.1. @default a free port */
    frontendPort?: number;
    /** `stats timeout` (idle timeout of admin connections) in ms. @default HAProxy's own, 10000 */
    statsTimeoutMs?: number;
    /** Keep a `server-state-file`, saved by `reload()` and loaded at start. @default false */
    serverStateFile?: boolean;
}

export interface RunningHaproxy {
    /** Temp dir holding the config, the admin socket and the state file. */
    readonly dir: string;
    readonly configPath: string;
    readonly backend: string;
    /** Path of the admin UNIX socket (`level admin`). */
    readonly adminSocket: string;
    /** `unix://` URL of `adminSocket`. */
    readonly unixAdmin: string;
    /** `tcp://127.0.0.1:<port>` URL of the admin TCP socket (`level admin`). */
    readonly tcpAdmin: string;
    /** `http://127.0.0.1:<port>` of the frontend. */
    readonly frontendUrl: string;
    /** Pid of the current process. */
    readonly pid: number;
    /** Everything HAProxy wrote to stdout/stderr since the last (re)start. */
    readonly output: string;
    /** Stops the process and starts a fresh one with the same config: servers added at run time are lost. */
    reload(): Promise<void>;
    /** Stops the process and removes the temp dir. */
    stop(): Promise<void>;
}

/** The HAProxy config of the harness. */
function haproxyConfig(p: {
    dir: string;
    backend: string;
    frontendPort: number;
    adminPort: number;
    statsTimeoutMs?: number;
    serverStateFile: boolean;
}): string {
    return [
        "global",
        `  stats socket ${join(p.dir, "admin.sock")} mode 600 level admin`,
        `  stats socket ipv4@127.0.0.1:${p.adminPort} level admin`,
        ...(p.statsTimeoutMs === undefined ? [] : [`  stats timeout ${p.statsTimeoutMs}ms`]),
        ...(p.serverStateFile ? [`  server-state-file ${join(p.dir, "server-state")}`] : []),
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 30s",
        "  timeout server 30s",
        "  timeout check 2s",
        "  option http-server-close",
        ...(p.serverStateFile ? ["  load-server-state-from-file global"] : []),
        "frontend fe",
        `  bind 127.0.0.1:${p.frontendPort}`,
        `  default_backend ${p.backend}`,
        `backend ${p.backend}`,
        "  balance roundrobin",
        "  option httpchk GET /health",
        "",
    ].join("\n");
}

/** Sends one command to an admin UNIX socket in non-interactive mode and returns the whole reply. */
export function adminQuery(socketPath: string, command: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = connect(socketPath);
        let reply = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => (reply += chunk));
        socket.on("error", reject);
        socket.on("end", () => resolve(reply));
        socket.write(`${command}\n`);
    });
}

/** Starts HAProxy and waits until its admin socket answers. */
export async function startHaproxy(options: HaproxyOptions = {}): Promise<RunningHaproxy> {
    requireBinary("haproxy", ["-v"], "apt-get install -y haproxy");
    const dir = await mkdtemp(join(tmpdir(), "haproxy-test-"));
    const backend = options.backend ?? "app";
    const frontendPort = options.frontendPort ?? (await freePort());
    const adminPort = await freePort();
    const configPath = join(dir, "haproxy.cfg");
    const adminSocket = join(dir, "admin.sock");
    const serverStateFile = options.serverStateFile ?? false;
    await writeFile(
        configPath,
        haproxyConfig({ dir, backend, frontendPort, adminPort, statsTimeoutMs: options.statsTimeoutMs, serverStateFile }),
    );
    let proc = await launch(configPath, adminSocket).catch(async (err) => {
        await rm(dir, { recursive: true, force: true });
        throw err;
    });
    return {
        dir,
        configPath,
        backend,
        adminSocket,
        unixAdmin: `unix://${adminSocket}`,
        tcpAdmin: `tcp://127.0.0.1:${adminPort}`,
        frontendUrl: `http://127.0.0.1:${frontendPort}`,
        get pid() {
            return proc.child.pid ?? -1;
        },
        get output() {
            return proc.output();
        },
        async reload() {
            if (serverStateFile) {
                await writeFile(join(dir, "server-state"), await adminQuery(adminSocket, "show servers state"));
            }
            await proc.stop();
            proc = await launch(configPath, adminSocket);
        },
        async stop() {
            await proc.stop();
            await rm(dir, { recursive: true, force: true });
        },
    };
}

function launch(configPath: string, adminSocket: string): Promise<TestProcess> {
    return startProcess("haproxy", ["-f", configPath, "-db"], async () =>
        (await adminQuery(adminSocket, "show info")).includes("Pid:"),
    );
}
