/**
 * The LocalDatabase provider: a PostgreSQL cluster in `<stateDir>/postgres/<id>/` (the id is the name
 * plus a random suffix, so a replacement never shares the old cluster's folder): `data/` (owned by the
 * server user, see postgres.ts) and `postgres.log`. Create runs `initdb`, starts the postmaster detached
 * with a marker (src/targets/local/processes.ts) on the port asked for or a free one, waits until it
 * answers and creates the database; a failed create stops what it started and removes the folder.
 *
 * A cluster whose process is gone (a reboot) is started again by the next `pulumi up`: `diff` sees the
 * dead process and reports an update, which starts the postmaster on the same folder and port. Delete
 * stops it with PostgreSQL's fast shutdown (SIGINT: clients are disconnected, transactions rolled back,
 * a checkpoint written), SIGKILL after 30 s, then removes the folder.
 */
import type * as pulumi from "@pulumi/pulumi";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { baseEnvironment, freePort, isRunning, logTail, makeStateDir, startDetached, stopProcess } from "./processes";
import { initCluster, postgresBinDir, psqlQuery, runClient, serverArgv, waitReady, type Connection } from "./postgres";
import { progress } from "../../provider/providerLog";
import { RuntimeInputError } from "../../haproxy/runtime/validate";
import { absolutePath, changedKeys, checkFields, matching, pickInputs, type FieldRule } from "./inputs";

export interface DatabaseInputs {
    name: string;
    stateDir: string;
    /** 0: a free port picked at create. */
    port: number;
    database: string;
    user: string;
}

export interface DatabaseOutputs extends DatabaseInputs {
    host: "127.0.0.1";
    listenPort: number;
    /** A Pulumi secret (the resource registers it in additionalSecretOutputs). */
    password: string;
    clusterDir: string;
    dataDir: string;
    logPath: string;
    pid: number;
    /** Identifies the postmaster (see src/targets/local/processes.ts). */
    marker: string;
}

const INPUT_KEYS = ["name", "stateDir", "port", "database", "user"] as const;

/** SQL identifiers the provider writes into statements: lowercase, so they need no quoting. */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Longest wait for a new postmaster to answer, in ms. */
const START_TIMEOUT_MS = 30_000;
/** Time PostgreSQL gets for its fast shutdown before SIGKILL, in ms. */
const STOP_GRACE_MS = 30_000;
/** Fresh ports tried when the postmaster cannot listen (another process may take a free port first). */
const START_ATTEMPTS = 3;

const port: FieldRule = (field, value) => {
    if (typeof value !== "number" || !Number.isInteger(value) || (value !== 0 && (value < 1024 || value > 65535))) {
        throw new RuntimeInputError(field, value, "0 (a free port) or a port from 1024 to 65535");
    }
    return value;
};

const provider: pulumi.dynamic.ResourceProvider<DatabaseInputs, DatabaseOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, {
            name: matching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, "1 to 32 letters, digits, '_' or '-'"),
            stateDir: absolutePath,
            port,
            database: matching(IDENTIFIER, "a lowercase SQL identifier (letters, digits, '_'; up to 63)"),
            user: matching(IDENTIFIER, "a lowercase SQL identifier (letters, digits, '_'; up to 63)"),
        });
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        const replaces = changedKeys<DatabaseInputs>(olds, news, INPUT_KEYS);
        if (replaces.length > 0) return { changes: true, replaces };
        // A postmaster that is gone (a reboot, a kill) is started again by an update.
        return { changes: !isRunning(olds.pid, olds.marker) };
    },

    async create(inputs) {
        const bin = postgresBinDir();
        const id = `${inputs.name}-${randomBytes(3).toString("hex")}`;
        const clusterDir = join(inputs.stateDir, "postgres", id);
        const dataDir = join(clusterDir, "data");
        const logPath = join(clusterDir, "postgres.log");
        const password = randomBytes(24).toString("base64url");
        await makeStateDir(inputs.stateDir);
        await mkdir(clusterDir, { recursive: true, mode: 0o711 });
        let pid: number | undefined;
        try {
            await initCluster(bin, dataDir, inputs.user, password);
            const started = await start(bin, { dataDir, logPath, marker: id, port: inputs.port, user: inputs.user, password });
            pid = started.pid;
            // The bootstrap database `postgres` exists in every cluster; the app's is created from it.
            await runClient(bin, "psql", psqlQuery(`CREATE DATABASE ${inputs.database}`), { ...started.connection, database: "postgres" });
            progress(`database ${inputs.name}: PostgreSQL (process ${pid}) serves ${inputs.database} on 127.0.0.1:${started.connection.port}`);
            const outs = { ...inputs, host: "127.0.0.1", listenPort: started.connection.port, password, clusterDir, dataDir, logPath, pid, marker: id } satisfies DatabaseOutputs;
            return { id, outs };
        } catch (err) {
            if (pid !== undefined) await stopProcess(pid, id, { signal: "SIGINT", graceMs: 5000 });
            await rm(clusterDir, { recursive: true, force: true });
            throw err;
        }
    },

    async read(id, props) {
        if (!props || !existsSync(props.dataDir)) return {};
        return { id, props, inputs: pickInputs(props, INPUT_KEYS) as DatabaseOutputs };
    },

    async update(_id, olds) {
        if (isRunning(olds.pid, olds.marker)) return { outs: olds };
        const started = await start(postgresBinDir(), { ...olds, port: olds.listenPort });
        progress(`database ${olds.name}: PostgreSQL was not running; started again (process ${started.pid}) on 127.0.0.1:${olds.listenPort}`);
        return { outs: { ...olds, pid: started.pid } satisfies DatabaseOutputs };
    },

    async delete(_id, props) {
        const outcome = await stopProcess(props.pid, props.marker, { signal: "SIGINT", graceMs: STOP_GRACE_MS });
        await rm(props.clusterDir, { recursive: true, force: true });
        progress(`database ${props.name}: PostgreSQL process ${props.pid} ${outcome}, ${props.clusterDir} removed (snapshots are kept)`);
    },
};

interface StartSpec {
    dataDir: string;
    logPath: string;
    marker: string;
    /** 0: a free one. */
    port: number;
    user: string;
    password: string;
}

/** Starts the postmaster and waits until it answers; a free port is retried on a fresh one. */
async function start(bin: string, spec: StartSpec): Promise<{ pid: number; connection: Connection }> {
    let lastError: Error | undefined;
    const attempts = spec.port === 0 ? START_ATTEMPTS : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
        const listenPort = spec.port === 0 ? await freePort() : spec.port;
        const connection = { host: "127.0.0.1", port: listenPort, database: "postgres", user: spec.user, password: spec.password };
        const pid = await startDetached({ argv: serverArgv(bin, spec.dataDir, listenPort), env: baseEnvironment(), cwd: "/", logPath: spec.logPath, marker: spec.marker });
        try {
            await waitReady(bin, connection, START_TIMEOUT_MS, () => isRunning(pid, spec.marker));
            return { pid, connection };
        } catch (err) {
            await stopProcess(pid, spec.marker, { signal: "SIGINT", graceMs: 5000 });
            lastError = err as Error;
        }
    }
    throw new Error(`PostgreSQL did not start (${lastError?.message}); ${spec.logPath}:\n${logTail(spec.logPath)}`);
}

export default provider;
