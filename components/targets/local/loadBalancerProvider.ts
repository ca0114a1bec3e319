/**
 * The LocalLoadBalancer provider: an HAProxy process on this machine, in `<stateDir>/lb/<name>/`
 * (`haproxy.cfg`, `admin.sock`, `haproxy.log`), started detached with `haproxy -f haproxy.cfg -db`.
 *
 * Every input change replaces the load balancer, deleting the old one first (the new one needs its port
 * and folder). A reload could change the health check in place, but it would lose the servers added at
 * run time, so a replacement is the honest description of what happens.
 */
import type * as pulumi from "@pulumi/pulumi";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { validateName } from "../../haproxy/validate";
import {
    ADMIN_SOCKET,
    renderHaproxyConfig,
    validateDirectory,
    validateFrontendPort,
    validateHealthCheck,
    type HealthCheckSettings,
} from "../../local/haproxyConfig";
import { baseEnvironment, isPortFree, isRunning, logTail, startDetached, stopAndRemove, stopProcess, waitForUnixSocket } from "../../local/processes";
import { containsUnknown } from "../../previewValues";
import { progress } from "../../providerLog";
import { absolutePath, changedKeys, checkFields, pickInputs } from "./inputs";

export interface LoadBalancerInputs {
    name: string;
    stateDir: string;
    frontendPort: number;
    backend: string;
    healthCheck: HealthCheckSettings;
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
    pid: number;
    /** Identifies the process (see components/local/processes.ts). */
    marker: string;
}

const INPUT_KEYS = ["name", "stateDir", "frontendPort", "backend", "healthCheck"] as const;

/** Longest wait for a new HAProxy's admin socket, in ms. */
const START_TIMEOUT_MS = 10_000;
/** Time HAProxy gets to stop after SIGTERM before SIGKILL, in ms. */
const STOP_GRACE_MS = 10_000;

const provider: pulumi.dynamic.ResourceProvider<LoadBalancerInputs, LoadBalancerOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, {
            name: validateName,
            stateDir: absolutePath,
            frontendPort: validateFrontendPort,
            backend: validateName,
            healthCheck: validateHealthCheck,
        });
        if (failures.length === 0 && !containsUnknown([news.stateDir, news.name])) {
            // The folder goes into haproxy.cfg: letters, digits and `_ . @ + / -` only, short enough for the socket.
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
        const configPath = join(dir, "haproxy.cfg");
        const logPath = join(dir, "haproxy.log");
        const adminSocket = join(dir, ADMIN_SOCKET);
        const config = renderHaproxyConfig({ ...inputs, dir });
        if (!(await isPortFree(inputs.frontendPort))) {
            throw new Error(`load balancer ${inputs.name}: port ${inputs.frontendPort} on 127.0.0.1 is in use by another process`);
        }
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await writeFile(configPath, config, { mode: 0o600 });
        const marker = `lb-${inputs.name}-${randomBytes(4).toString("hex")}`;
        const pid = await startDetached({ argv: ["haproxy", "-f", configPath, "-db"], env: baseEnvironment(), cwd: dir, logPath, marker });
        try {
            await waitForUnixSocket(adminSocket, START_TIMEOUT_MS, () => isRunning(pid, marker));
        } catch (err) {
            await stopProcess(pid, marker, { graceMs: STOP_GRACE_MS });
            throw new Error(`load balancer ${inputs.name}: HAProxy did not start (${(err as Error).message}); ${logPath}:\n${logTail(logPath)}`);
        }
        progress(`load balancer ${inputs.name}: HAProxy ${pid} serves http://127.0.0.1:${inputs.frontendPort}/`);
        const outs = {
            ...inputs,
            dir,
            configPath,
            logPath,
            endpoint: `unix://${adminSocket}`,
            frontendUrl: `http://127.0.0.1:${inputs.frontendPort}/`,
            pid,
            marker,
        } satisfies LoadBalancerOutputs;
        return { id: marker, outs };
    },

    async read(id, props) {
        if (!props || !isRunning(props.pid, props.marker)) return {};
        return { id, props, inputs: pickInputs(props, INPUT_KEYS) as LoadBalancerOutputs };
    },

    async delete(_id, props) {
        const outcome = await stopAndRemove(props.pid, props.marker, props.dir, { graceMs: STOP_GRACE_MS });
        progress(`load balancer ${props.name}: HAProxy ${props.pid} ${outcome}, ${props.dir} removed`);
    },
};

function lbDir(inputs: Pick<LoadBalancerInputs, "stateDir" | "name">): string {
    return join(inputs.stateDir, "lb", inputs.name);
}

export default provider;
