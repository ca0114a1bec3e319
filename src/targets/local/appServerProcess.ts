/**
 * One demo app server process on 127.0.0.1, in a folder of its own, `<stateDir>/servers/<id>/` (the id
 * is the name plus a random suffix, so a replacement, started before the old server stops, never shares
 * the old one's folder). The folder holds the app release the server runs (appRelease.ts), its
 * health-check file `healthy` and its log `server.log`. Used by the LocalAppServers provider
 * (appServersProvider.ts).
 *
 * Launching waits until the port accepts connections, not until the server is healthy (the HealthGate
 * does that). Stopping is graceful (SIGTERM, 30 s for requests in flight, then SIGKILL) and removes the
 * folder.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { validateName } from "../../haproxy/runtime/validate";
import { APP_MODULES, SERVER_ENTRY, buildRelease } from "./appRelease";
import { connectionRule } from "./connectionInput";
import type { Connection } from "./postgres";
import { baseEnvironment, makeStateDir, freePort, isRunning, logTail, startDetached, stopAndRemove, stopProcess, waitForPort } from "./processes";
import { progress } from "../../provider/providerLog";
import { recordTiming } from "../../provider/timings";
import { absolutePath, environment, matching, text, type FieldRule } from "./inputs";

/** What every server of a generation shares. */
export interface AppServerSettings {
    generation: string;
    stateDir: string;
    database: Connection;
    appRef: string;
    env: Record<string, string>;
}

/** A running server, as the providers store it. */
export interface RunningAppServer {
    name: string;
    address: "127.0.0.1";
    port: number;
    /** `http://127.0.0.1:<port>/` */
    url: string;
    /** `http://127.0.0.1:<port>/health` */
    healthUrl: string;
    pid: number;
    /** Identifies the process (see src/targets/local/processes.ts). */
    marker: string;
    /** The server's folder, removed on stop. */
    serverDir: string;
    /** Removing this file fails the server's health check (runbook step 12). */
    healthFile: string;
    logPath: string;
}

/** Settings whose change makes other servers. */
export const SETTINGS_KEYS = ["generation", "stateDir", "database", "appRef", "env"] as const;

/** Variables the provider sets itself; `env` may not contain them. */
const RESERVED = ["PORT", "HOST", "SERVER_NAME", "GENERATION", "APP_REF", "HEALTH_FILE", "NODE_PATH", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"];

/** The check rules of the settings, and of a server name. */
export const SETTINGS_RULES: Record<(typeof SETTINGS_KEYS)[number], FieldRule> = {
    generation: matching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, "1 to 32 letters, digits, '_', '.' or '-'"),
    stateDir: absolutePath,
    database: connectionRule,
    appRef: text(256),
    env: environment(RESERVED),
};
export const NAME_RULE: FieldRule = validateName;

/** Longest wait for a new server's port, in ms. */
const START_TIMEOUT_MS = 10_000;
/** Time a server gets after SIGTERM to finish requests in flight, in ms (the app's own bound). */
const STOP_GRACE_MS = 30_000;
/** Fresh ports tried when a server exits at start (another process may take a port between probe and bind). */
const START_ATTEMPTS = 3;

/** Starts server `name` in a new folder and waits until it accepts connections; leaves nothing behind on failure. */
export async function launchAppServer(name: string, settings: AppServerSettings): Promise<RunningAppServer> {
    const id = `${name}-${randomBytes(3).toString("hex")}`;
    const serverDir = join(settings.stateDir, "servers", id);
    const releaseDir = join(serverDir, "app");
    const healthFile = join(serverDir, "healthy");
    const logPath = join(serverDir, "server.log");
    await makeStateDir(settings.stateDir);
    await mkdir(serverDir, { recursive: true, mode: 0o700 });
    try {
        await buildRelease(releaseDir);
        await writeFile(healthFile, `${new Date().toISOString()}\n`);
        const { pid, port } = await start(name, settings, { id, serverDir, releaseDir, healthFile, logPath });
        progress(`app server ${name}: process ${pid} listens on 127.0.0.1:${port}`);
        return { name, address: "127.0.0.1", port, url: `http://127.0.0.1:${port}/`, healthUrl: `http://127.0.0.1:${port}/health`, pid, marker: id, serverDir, healthFile, logPath };
    } catch (err) {
        await rm(serverDir, { recursive: true, force: true });
        throw err;
    }
}

/** Stops the server gracefully and removes its folder. */
export async function stopAppServer(server: Pick<RunningAppServer, "name" | "pid" | "marker" | "serverDir">): Promise<void> {
    const outcome = await stopAndRemove(server.pid, server.marker, server.serverDir, { graceMs: STOP_GRACE_MS });
    progress(`app server ${server.name}: process ${server.pid} ${outcome}, ${server.serverDir} removed`);
}

/** Whether the server's process still runs. */
export function isAlive(server: Pick<RunningAppServer, "pid" | "marker">): boolean {
    return isRunning(server.pid, server.marker);
}

interface ServerFiles {
    id: string;
    serverDir: string;
    releaseDir: string;
    healthFile: string;
    logPath: string;
}

/** Starts the server on a free port and waits until it accepts connections; retries on a fresh port. */
async function start(name: string, settings: AppServerSettings, files: ServerFiles): Promise<{ pid: number; port: number }> {
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
        const port = await freePort();
        const env = baseEnvironment({
            ...settings.env,
            PORT: String(port),
            HOST: "127.0.0.1",
            SERVER_NAME: name,
            GENERATION: settings.generation,
            APP_REF: settings.appRef,
            HEALTH_FILE: files.healthFile,
            // The app's driver (`pg`), found wherever the state folder is.
            NODE_PATH: APP_MODULES,
            PGHOST: settings.database.host,
            PGPORT: String(settings.database.port),
            PGDATABASE: settings.database.database,
            PGUSER: settings.database.user,
            PGPASSWORD: settings.database.password,
        });
        const argv = [process.execPath, join(files.releaseDir, SERVER_ENTRY)];
        const spawnedAt = Date.now();
        const pid = await startDetached({ argv, env, cwd: files.serverDir, logPath: files.logPath, marker: files.id });
        try {
            await waitForPort("127.0.0.1", port, START_TIMEOUT_MS, () => isRunning(pid, files.id));
            recordTiming({ kind: "start", server: name, spawnedAt, listeningAt: Date.now() });
            return { pid, port };
        } catch (err) {
            await stopProcess(pid, files.id, { graceMs: 1000 });
            lastError = err as Error;
        }
    }
    throw new Error(`app server ${name} did not start after ${START_ATTEMPTS} attempts (${lastError?.message}); ${files.logPath}:\n${logTail(files.logPath)}`);
}
