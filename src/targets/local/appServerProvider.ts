/**
 * The LocalAppServer provider: one demo app server process on 127.0.0.1, in a folder of its own,
 * `<stateDir>/servers/<id>/` (the id is the name plus a random suffix, so a replacement, created before
 * the old server is deleted, never shares the old one's folder). The folder holds the app release the
 * server runs (src/targets/local/appRelease.ts), its health-check file `healthy` and its log `server.log`.
 *
 * Create waits until the port accepts connections, not until the server is healthy (the HealthGate does
 * that). Delete stops the process gracefully (SIGTERM, 30 s for requests in flight, then SIGKILL) and
 * removes the folder. Any input change replaces the server. Read reports a server whose process is gone
 * as deleted; its folder stays, with the log that tells why it died.
 */
import type * as pulumi from "@pulumi/pulumi";
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
import { absolutePath, changedKeys, checkFields, environment, matching, pickInputs, text } from "./inputs";

export interface AppServerInputs {
    name: string;
    generation: string;
    stateDir: string;
    database: Connection;
    appRef: string;
    env: Record<string, string>;
}

export interface AppServerOutputs extends AppServerInputs {
    address: "127.0.0.1";
    port: number;
    /** `http://127.0.0.1:<port>/` */
    url: string;
    /** `http://127.0.0.1:<port>/health` */
    healthUrl: string;
    pid: number;
    /** Identifies the process (see src/targets/local/processes.ts). */
    marker: string;
    /** The server's folder, removed on delete. */
    serverDir: string;
    /** Removing this file fails the server's health check (runbook step 12). */
    healthFile: string;
    logPath: string;
}

const INPUT_KEYS = ["name", "generation", "stateDir", "database", "appRef", "env"] as const;

/** Variables the provider sets itself; `env` may not contain them. */
const RESERVED = ["PORT", "HOST", "SERVER_NAME", "GENERATION", "APP_REF", "HEALTH_FILE", "NODE_PATH", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"];

/** Longest wait for a new server's port, in ms. */
const START_TIMEOUT_MS = 10_000;
/** Time a server gets after SIGTERM to finish requests in flight, in ms (the app's own bound). */
const STOP_GRACE_MS = 30_000;
/** Fresh ports tried when a server exits at start (another process may take a port between probe and bind). */
const START_ATTEMPTS = 3;

const provider: pulumi.dynamic.ResourceProvider<AppServerInputs, AppServerOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, {
            name: validateName,
            generation: matching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, "1 to 32 letters, digits, '_', '.' or '-'"),
            stateDir: absolutePath,
            database: connectionRule,
            appRef: text(256),
            env: environment(RESERVED),
        });
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        const replaces = changedKeys<AppServerInputs>(olds, news, INPUT_KEYS);
        return { changes: replaces.length > 0, replaces };
    },

    async create(inputs) {
        const id = `${inputs.name}-${randomBytes(3).toString("hex")}`;
        const serverDir = join(inputs.stateDir, "servers", id);
        const releaseDir = join(serverDir, "app");
        const healthFile = join(serverDir, "healthy");
        const logPath = join(serverDir, "server.log");
        await makeStateDir(inputs.stateDir);
        await mkdir(serverDir, { recursive: true, mode: 0o700 });
        try {
            await buildRelease(releaseDir);
            await writeFile(healthFile, `${new Date().toISOString()}\n`);
            const { pid, port } = await start(inputs, { id, serverDir, releaseDir, healthFile, logPath });
            progress(`app server ${inputs.name}: process ${pid} listens on 127.0.0.1:${port}`);
            const outs = {
                ...inputs,
                address: "127.0.0.1",
                port,
                url: `http://127.0.0.1:${port}/`,
                healthUrl: `http://127.0.0.1:${port}/health`,
                pid,
                marker: id,
                serverDir,
                healthFile,
                logPath,
            } satisfies AppServerOutputs;
            return { id, outs };
        } catch (err) {
            await rm(serverDir, { recursive: true, force: true });
            throw err;
        }
    },

    async read(id, props) {
        if (!props || !isRunning(props.pid, props.marker)) return {};
        return { id, props, inputs: pickInputs(props, INPUT_KEYS) as AppServerOutputs };
    },

    async delete(_id, props) {
        const outcome = await stopAndRemove(props.pid, props.marker, props.serverDir, { graceMs: STOP_GRACE_MS });
        progress(`app server ${props.name}: process ${props.pid} ${outcome}, ${props.serverDir} removed`);
    },
};

interface ServerFiles {
    id: string;
    serverDir: string;
    releaseDir: string;
    healthFile: string;
    logPath: string;
}

/** Starts the server on a free port and waits until it accepts connections; retries on a fresh port. */
async function start(inputs: AppServerInputs, files: ServerFiles): Promise<{ pid: number; port: number }> {
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
        const port = await freePort();
        const env = baseEnvironment({
            ...inputs.env,
            PORT: String(port),
            HOST: "127.0.0.1",
            SERVER_NAME: inputs.name,
            GENERATION: inputs.generation,
            APP_REF: inputs.appRef,
            HEALTH_FILE: files.healthFile,
            // The app's driver (`pg`), found wherever the state folder is.
            NODE_PATH: APP_MODULES,
            PGHOST: inputs.database.host,
            PGPORT: String(inputs.database.port),
            PGDATABASE: inputs.database.database,
            PGUSER: inputs.database.user,
            PGPASSWORD: inputs.database.password,
        });
        const argv = [process.execPath, join(files.releaseDir, SERVER_ENTRY)];
        const spawnedAt = Date.now();
        const pid = await startDetached({ argv, env, cwd: files.serverDir, logPath: files.logPath, marker: files.id });
        try {
            await waitForPort("127.0.0.1", port, START_TIMEOUT_MS, () => isRunning(pid, files.id));
            recordTiming({ kind: "start", server: inputs.name, spawnedAt, listeningAt: Date.now() });
            return { pid, port };
        } catch (err) {
            await stopProcess(pid, files.id, { graceMs: 1000 });
            lastError = err as Error;
        }
    }
    throw new Error(`app server ${inputs.name} did not start after ${START_ATTEMPTS} attempts (${lastError?.message}); ${files.logPath}:\n${logTail(files.logPath)}`);
}

export default provider;
