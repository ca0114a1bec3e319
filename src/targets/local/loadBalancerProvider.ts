/**
 * The LocalLoadBalancer provider: an HAProxy on this machine, in `<stateDir>/lb/<name>/`, shaped like a
 * production one (src/targets/local/haproxyConfig.ts): `haproxy.cfg`, the servers file
 * `servers/<backend>.cfg` that holds the backend and its servers, `server-state`, the admin and master
 * sockets, `haproxy.pid`, `haproxy.log` and `marker`. It runs in master-worker mode, started detached
 * (src/targets/local/haproxyControl.ts), and can be reloaded or restarted outside Pulumi (`npm run lb`):
 * read and delete find the current master through the pid file, and check the marker before
 * signalling anything.
 *
 * Every input change replaces the load balancer, deleting the old one first (the new one needs its port
 * and folder). The servers file is written only when it does not exist: it belongs to the memberships.
 *
 * With `cookie`, the backend has cookie persistence with dynamic cookies; every load balancer of the
 * stack's folder uses one key, `<stateDir>/lb/dynamic-cookie-key` (made by the first one created, kept),
 * so a server has the same cookie on each of them and a client may move between them.
 */
import type * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { validateBoolean, validateName } from "../../haproxy/runtime/validate";
import { localFiles } from "../../haproxy/runtime/hostFiles";
import { renderServersFile } from "../../haproxy/serversFile";
import {
    ADMIN_SOCKET,
    CONFIG_FILE,
    EMPTY_SERVER_STATE,
    MASTER_SOCKET,
    SERVERS_DIR,
    SERVER_STATE_FILE,
    backendDefaultsName,
    renderHaproxyConfig,
    serversFilePath,
    validateBackend,
    validateDirectory,
    validateFrontendPort,
    validateDynamicCookieKey,
    validateHealthCheck,
    type HealthCheckSettings,
} from "./haproxyConfig";
import { LOG_FILE, PID_FILE, currentMaster, newMarker, startLoadBalancer, stopLoadBalancer, workerPid } from "./haproxyControl";
import { isPortFree, isRunning, makeStateDir } from "./processes";
import { containsUnknown } from "../../provider/previewValues";
import { progress } from "../../provider/providerLog";
import { absolutePath, changedKeys, checkFields, optional, pickInputs } from "./inputs";

export interface LoadBalancerInputs {
    name: string;
    stateDir: string;
    frontendPort: number;
    backend: string;
    healthCheck: HealthCheckSettings;
    /** Cookie persistence in the backend (the servers' options ask for a cookie). @default false */
    cookie?: boolean;
}

export interface LoadBalancerOutputs extends LoadBalancerInputs {
    /** The load balancer's folder, `<stateDir>/lb/<name>`. */
    dir: string;
    configPath: string;
    logPath: string;
    /** Runtime API endpoint, `unix://<dir>/admin.sock`. */
    endpoint: string;
    /** `http://127.0.0.1:<frontendPort>/` */
    frontendUrl: string;
    /** The servers file, `<dir>/servers/<backend>.cfg`: the backend section and its servers. */
    serversFile: string;
    /** The `defaults` section holding the backend's settings, `backend-<backend>`. */
    backendDefaults: string;
    /** The master CLI socket (`-S`), `<dir>/master.sock`. */
    masterSocket: string;
    /** The master's pid file (`-p`), `<dir>/haproxy.pid`. */
    pidFile: string;
    /** The worker that served when the load balancer was created or last read (`show info`'s Pid). */
    pid: number;
    /** The master when the load balancer was created or last read; the current one is in `pidFile`. */
    masterPid: number;
    /** Identifies every process of the load balancer (see src/targets/local/processes.ts). */
    marker: string;
}

const INPUT_KEYS = ["name", "stateDir", "frontendPort", "backend", "healthCheck", "cookie"] as const;

/** Longest wait for a new HAProxy's admin socket and frontend, in ms. */
const START_TIMEOUT_MS = 10_000;
/** Time HAProxy gets to stop after SIGTERM before SIGKILL, in ms. */
const STOP_GRACE_MS = 10_000;

const provider: pulumi.dynamic.ResourceProvider<LoadBalancerInputs, LoadBalancerOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, {
            name: validateName,
            stateDir: absolutePath,
            frontendPort: validateFrontendPort,
            backend: validateBackend,
            healthCheck: validateHealthCheck,
            cookie: optional(validateBoolean),
        });
        if (failures.length === 0 && !containsUnknown([news.stateDir, news.name])) {
            // The folder goes into haproxy.cfg: letters, digits and `_ . @ + / -` only, short enough for the sockets.
            failures.push(...checkFields({ stateDir: lbDir(news) }, { stateDir: validateDirectory }));
        }
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        const replaces = changedKeys<LoadBalancerInputs>(olds, news, INPUT_KEYS);
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
    },

    async create(inputs) {
        const dir = lbDir(inputs);
        const configPath = join(dir, CONFIG_FILE);
        const logPath = join(dir, LOG_FILE);
        const serversFile = serversFilePath(dir, inputs.backend);
        const backendDefaults = backendDefaultsName(inputs.backend);
        if (!(await isPortFree(inputs.frontendPort))) {
            throw new Error(`load balancer ${inputs.name}: port ${inputs.frontendPort} on 127.0.0.1 is in use by another process`);
        }
        await makeStateDir(inputs.stateDir);
        // After the state folder exists (made with the mode the local target's PostgreSQL needs to get through).
        const config = renderHaproxyConfig({ ...inputs, dir, ...(inputs.cookie ? { dynamicCookieKey: await sharedCookieKey(inputs.stateDir) } : {}) });
        await mkdir(join(dir, SERVERS_DIR), { recursive: true, mode: 0o700 });
        await writeFile(configPath, config, { mode: 0o600 });
        // Kept if present (a load balancer created again after its process died keeps its servers).
        await writeIfAbsent(serversFile, renderServersFile({ backend: inputs.backend, backendDefaults }, new Map()));
        await writeIfAbsent(join(dir, SERVER_STATE_FILE), EMPTY_SERVER_STATE);
        const marker = newMarker(inputs.name);
        let started;
        try {
            started = await startLoadBalancer(dir, marker, { timeoutMs: START_TIMEOUT_MS });
        } catch (err) {
            throw new Error(`load balancer ${inputs.name}: ${(err as Error).message}`);
        }
        progress(`load balancer ${inputs.name}: HAProxy master ${started.masterPid}, worker ${started.workerPid} serves http://127.0.0.1:${inputs.frontendPort}/`);
        const outs = {
            ...inputs,
            dir,
            configPath,
            logPath,
            endpoint: `unix://${join(dir, ADMIN_SOCKET)}`,
            frontendUrl: `http://127.0.0.1:${inputs.frontendPort}/`,
            serversFile,
            backendDefaults,
            masterSocket: join(dir, MASTER_SOCKET),
            pidFile: join(dir, PID_FILE),
            pid: started.workerPid,
            masterPid: started.masterPid,
            marker,
        } satisfies LoadBalancerOutputs;
        return { id: marker, outs };
    },

    async read(id, props) {
        if (!props) return {};
        if (props.pidFile === undefined) {
            // State written before master-worker mode: one process, no pid file; replace it with `pulumi up --replace`.
            return isRunning(props.pid, props.marker) ? { id, props, inputs: pickInputs(props, INPUT_KEYS) as LoadBalancerOutputs } : {};
        }
        // The master in the pid file (a reload or restart outside Pulumi changes it), if it carries the marker.
        const masterPid = await currentMaster(props.dir, props.marker);
        if (masterPid === undefined) return {};
        const pid = await workerPid(props.dir);
        return { id, props: { ...props, pid, masterPid }, inputs: pickInputs(props, INPUT_KEYS) as LoadBalancerOutputs };
    },

    async delete(_id, props) {
        // Every process carrying the marker: the current master, and older ones still finishing requests.
        const stopped = await stopLoadBalancer(props.dir, props.marker, { graceMs: STOP_GRACE_MS });
        await rm(props.dir, { recursive: true, force: true });
        const what = [...stopped].map(([pid, outcome]) => `${pid} ${outcome}`).join(", ") || "no process running";
        progress(`load balancer ${props.name}: HAProxy ${what}; ${props.dir} removed`);
    },
};

/** Writes `text` to `path` unless the file exists. */
async function writeIfAbsent(path: string, text: string): Promise<void> {
    try {
        await writeFile(path, text, { mode: 0o600, flag: "wx" });
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
}

/** The dynamic cookie key of every load balancer in `stateDir`: read, or made once (created exclusively, so one creator wins). */
async function sharedCookieKey(stateDir: string): Promise<string> {
    const path = join(stateDir, "lb", "dynamic-cookie-key");
    // The folder keeps the key to this user; it is inside the state folder, made before.
    await mkdir(join(stateDir, "lb"), { recursive: true, mode: 0o700 });
    await localFiles.createExclusive(path, randomBytes(16).toString("hex"));
    return validateDynamicCookieKey(path, ((await localFiles.read(path)) ?? "").trim());
}

function lbDir(inputs: Pick<LoadBalancerInputs, "stateDir" | "name">): string {
    return join(inputs.stateDir, "lb", inputs.name);
}

export default provider;
