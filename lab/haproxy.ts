/**
 * Test harness: a real HAProxy on loopback ports, in a temp dir, in the shape of a production one and of
 * the local target's load balancers (src/targets/local/haproxyConfig.ts): master-worker mode
 * (`haproxy -W -db -p haproxy.pid -S master.sock -f haproxy.cfg -f servers`), the backend and its servers
 * in a servers file (`servers/<backend>.cfg`, `backend <backend> from backend-<backend>`), the backend's
 * settings in a named `defaults` section before the unnamed one, and a server-state file loaded at
 * every start.
 *
 * No `option http-server-close`: connections to servers stay alive and are reused (HAProxy's default,
 * `http-reuse safe`), as in production, so a drained server may keep idle pooled connections until
 * `pool-purge-delay` (5 s). `timeout server` is 30 s so long requests finish. `option
 * idle-close-on-response`: a keep-alive client's request racing a reload is answered, not dropped.
 *
 * `reload(kind)` is what an operator's tooling does (src/targets/local/haproxyControl.ts): `master` (USR2
 * to the master), `seamless` (`-x ... -sf <old master>`) or `restart` (a new master, then a graceful stop
 * of the old one). Every kind loads the files only: servers added at run time and not written into the
 * servers file are lost.
 *
 * The HAProxy is the one `BLUEGREEN_HAPROXY_VERSION` selects (src/targets/local/haproxyBinary.ts, default
 * 2.6); `requireHaproxy()` fails a test, saying how to set it up, when that version cannot run.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuntimeClient } from "../src/haproxy/runtime/client";
import { renderServersFile, type ServersFileHeader } from "../src/haproxy/serversFile";
import { runningHaproxyVersion } from "../src/targets/local/haproxyBinary";
import { ADMIN_SOCKET, CONFIG_FILE, EMPTY_SERVER_STATE, MASTER_SOCKET, SERVERS_DIR, SERVER_STATE_FILE } from "../src/targets/local/haproxyConfig";
import { LOG_FILE, reloadLoadBalancer, startLoadBalancer, stopLoadBalancer, type ReloadKind } from "../src/targets/local/haproxyControl";
import { freePort } from "./ports";

export interface HaproxyOptions {
    /** Name of the backend (roundrobin, `option httpchk GET /health`, no servers at first). @default "app" */
    backend?: string;
    /** Frontend port on 127.0.0.1. @default a free port */
    frontendPort?: number;
    /** `stats timeout` (idle timeout of admin connections) in ms. @default HAProxy's own, 10000 */
    statsTimeoutMs?: number;
    /** Ignored: the server-state file is always kept (saved by `reload()`, loaded at every start). */
    serverStateFile?: boolean;
    /**
     * More lines of the backend's named defaults section, after the harness's own (a later `balance`
     * wins), e.g. `balance leastconn`, `cookie SRV insert indirect nocache dynamic`, `dynamic-cookie-key k`.
     * @default none
     */
    backendSettings?: string[];
    /** The operator's own lines under the servers file's backend line: `default-server ...` and `server <name> ...`. @default none */
    serversFileLines?: string[];
    /** A second frontend, on a free port, serving HAProxy's Prometheus exporter at `/metrics` (`metricsUrl`). @default false */
    prometheusExporter?: boolean;
}

export interface RunningHaproxy {
    /** Temp dir holding the config, the servers folder, the sockets, the state, pid and log files. */
    readonly dir: string;
    readonly configPath: string;
    readonly backend: string;
    /** The servers file, `<dir>/servers/<backend>.cfg`: the backend section and its servers. */
    readonly serversFile: string;
    /** The named `defaults` section the backend takes its settings from, `backend-<backend>`. */
    readonly backendDefaults: string;
    /** Path of the admin UNIX socket (`level admin`). */
    readonly adminSocket: string;
    /** Path of the master CLI socket (`-S`). */
    readonly masterSocket: string;
    /** `unix://` URL of `adminSocket`. */
    readonly unixAdmin: string;
    /** `tcp://127.0.0.1:<port>` URL of the admin TCP socket (`level admin`). */
    readonly tcpAdmin: string;
    /** `http://127.0.0.1:<port>` of the frontend. */
    readonly frontendUrl: string;
    /** With `prometheusExporter`: `http://127.0.0.1:<port>/metrics`, the exporter's frontend. */
    readonly metricsUrl?: string;
    /** Pid of the current worker (the process answering on the admin socket). */
    readonly pid: number;
    /** Everything HAProxy wrote to its log since the last start, reload or restart. */
    readonly output: string;
    /**
     * New processes, as an operator's tooling makes them (src/targets/local/haproxyControl.ts); resolves
     * once a new worker answers and the frontend accepts connections. Servers added at run time are lost
     * (only the files are loaded). @default "restart"
     */
    reload(kind?: ReloadKind): Promise<void>;
    /** Stops every process of this HAProxy (old ones still finishing included) and removes the temp dir. */
    stop(): Promise<void>;
}

/** The HAProxy config of the harness (the backend itself is in the servers file). */
function haproxyConfig(p: {
    dir: string;
    backend: string;
    backendDefaults: string;
    frontendPort: number;
    adminPort: number;
    statsTimeoutMs?: number;
    backendSettings?: string[];
    metricsPort?: number;
}): string {
    const timeouts = ["  mode http", "  timeout connect 2s", "  timeout client 30s", "  timeout server 30s", "  timeout check 2s", "  load-server-state-from-file global"];
    return [
        "global",
        `  stats socket ${join(p.dir, ADMIN_SOCKET)} mode 600 level admin expose-fd listeners`,
        `  stats socket ipv4@127.0.0.1:${p.adminPort} level admin`,
        ...(p.statsTimeoutMs === undefined ? [] : [`  stats timeout ${p.statsTimeoutMs}ms`]),
        `  server-state-file ${join(p.dir, SERVER_STATE_FILE)}`,
        `defaults ${p.backendDefaults}`,
        ...timeouts,
        "  balance roundrobin",
        "  option httpchk GET /health",
        ...(p.backendSettings ?? []).map((line) => `  ${line.trim()}`),
        "defaults",
        ...timeouts,
        "  option idle-close-on-response",
        "frontend fe",
        `  bind 127.0.0.1:${p.frontendPort}`,
        `  default_backend ${p.backend}`,
        ...(p.metricsPort === undefined
            ? []
            : ["frontend metrics", `  bind 127.0.0.1:${p.metricsPort}`, "  http-request use-service prometheus-exporter if { path /metrics }"]),
        "",
    ].join("\n");
}

/**
 * Fails, saying how to set it up (`apt-get install -y haproxy`, `bash scripts/setup-haproxy.sh 3.2`), unless
 * the HAProxy `BLUEGREEN_HAPROXY_VERSION` selects runs; returns the version it reports, e.g. `3.2.26-1`.
 */
export function requireHaproxy(): string {
    return runningHaproxyVersion();
}

/** Starts HAProxy and waits until its admin socket answers and its frontend accepts connections. */
export async function startHaproxy(options: HaproxyOptions = {}): Promise<RunningHaproxy> {
    requireHaproxy();
    const dir = await mkdtemp(join(tmpdir(), "haproxy-test-"));
    const backend = options.backend ?? "app";
    const backendDefaults = `backend-${backend}`;
    const frontendPort = options.frontendPort ?? (await freePort());
    const adminPort = await freePort();
    const metricsPort = options.prometheusExporter ? await freePort() : undefined;
    const configPath = join(dir, CONFIG_FILE);
    const adminSocket = join(dir, ADMIN_SOCKET);
    const serversFile = join(dir, SERVERS_DIR, `${backend}.cfg`);
    const logPath = join(dir, LOG_FILE);
    const marker = `test-haproxy-${randomBytes(4).toString("hex")}`;
    let workerPid: number;
    let logOffset = 0;
    try {
        await mkdir(join(dir, SERVERS_DIR));
        const { backendSettings, statsTimeoutMs } = options;
        await writeFile(configPath, haproxyConfig({ dir, backend, backendDefaults, frontendPort, adminPort, statsTimeoutMs, backendSettings, metricsPort }));
        await writeFile(serversFile, operatorServersFile({ backend, backendDefaults }, options.serversFileLines ?? []));
        await writeFile(join(dir, SERVER_STATE_FILE), EMPTY_SERVER_STATE);
        workerPid = (await startLoadBalancer(dir, marker)).workerPid;
    } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
    }
    return {
        dir,
        configPath,
        backend,
        serversFile,
        backendDefaults,
        adminSocket,
        masterSocket: join(dir, MASTER_SOCKET),
        unixAdmin: `unix://${adminSocket}`,
        tcpAdmin: `tcp://127.0.0.1:${adminPort}`,
        frontendUrl: `http://127.0.0.1:${frontendPort}`,
        metricsUrl: metricsPort === undefined ? undefined : `http://127.0.0.1:${metricsPort}/metrics`,
        get pid() {
            return workerPid;
        },
        get output() {
            return readFrom(logPath, logOffset);
        },
        async reload(kind: ReloadKind = "restart") {
            const offset = fileSize(logPath);
            workerPid = (await reloadLoadBalancer(dir, kind)).after;
            logOffset = offset;
        },
        async stop() {
            await stopLoadBalancer(dir, marker, { graceMs: 5000 });
            await rm(dir, { recursive: true, force: true });
        },
    };
}

/** The servers file as the operator left it: their `default-server` and `server` lines under the backend line. */
function operatorServersFile(header: ServersFileHeader, lines: readonly string[]): string {
    const settings: string[] = [];
    const servers = new Map<string, string>();
    for (const line of lines.map((l) => `    ${l.trim()}`)) {
        const server = /^\s+server\s+(\S+)\s/.exec(line);
        if (server) servers.set(server[1], line);
        else if (/^\s+default-server\s/.test(line)) settings.push(line);
        else throw new Error(`serversFileLines: only default-server and server lines, got ${JSON.stringify(line.trim())}`);
    }
    return renderServersFile(header, servers, settings);
}

function fileSize(path: string): number {
    const fd = openSync(path, "r");
    try {
        return fstatSync(fd).size;
    } finally {
        closeSync(fd);
    }
}

/** The text of `path` from byte `offset` on. */
function readFrom(path: string, offset: number): string {
    const fd = openSync(path, "r");
    try {
        const buffer = Buffer.alloc(Math.max(fstatSync(fd).size - offset, 0));
        readSync(fd, buffer, 0, buffer.length, offset);
        return buffer.toString("utf8");
    } finally {
        closeSync(fd);
    }
}

/** `name status` of every server of `backend` on `lb`, sorted, asked over its admin socket. */
export async function serverStatuses(lb: RunningHaproxy, backend = lb.backend): Promise<string[]> {
    const client = new RuntimeClient(lb.unixAdmin);
    try {
        return (await client.showStat(backend)).filter((r) => r.svname !== "BACKEND").map((r) => `${r.svname} ${r.status}`).sort();
    } finally {
        await client.close();
    }
}
