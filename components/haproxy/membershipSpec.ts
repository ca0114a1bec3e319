/**
 * The resolved, validated inputs of a Membership: what the provider works from, and what it stores as
 * outputs so that a delete (which gets only the stored outputs) can drain and detach on its own.
 * Pure: exported for tests.
 */
import { parseEndpoint } from "./endpoint";
import type { SshCredentials } from "./transport";
import {
    RuntimeInputError,
    validateAddress,
    validateCheck,
    validateInteger,
    validateKeys,
    validateName,
    validatePort,
    validateWeight,
    type CheckOptions,
} from "./validate";

/** One load balancer: a name for messages and its Runtime API endpoint. */
export interface LoadBalancerRef {
    name: string;
    /** `unix:///path/admin.sock`, `tcp://host:port` or `ssh://user@host[:port]/path/admin.sock` */
    endpoint: string;
    /**
     * Identity of the HAProxy process behind the endpoint (e.g. its pid). When it changes, HAProxy was
     * restarted and lost the servers added at run time, so the server is attached again. @default none
     */
    instance?: string;
}

/** How a server is taken out of rotation before it is removed (runbook steps 12-14). */
export interface DrainSettings {
    /**
     * `drain`: HAProxy's runtime drain state (no new sessions, persistent ones kept).
     * `healthcheck`: remove the server's health-check file so its check fails (runbook step 12);
     * needs `healthFile`. @default "drain"
     */
    method: "drain" | "healthcheck";
    /** The health-check file as `file:///abs/path` (on this machine). Only for `healthcheck`. */
    healthFile?: string;
    /** Longest wait for sessions to reach zero, in ms. @default 300000 */
    timeoutMs: number;
    /** At the timeout: `fail` the update (the server stays, a re-run resumes) or `force` (shut sessions, remove). @default "fail" */
    onTimeout: "fail" | "force";
    /** Interval between two session counts, in ms. @default 250 */
    pollIntervalMs: number;
}

export interface MembershipSpec {
    loadBalancers: LoadBalancerRef[];
    backend: string;
    server: string;
    address: string;
    port: number;
    /** @default 1 (HAProxy's) */
    weight: number;
    /** @default { enabled: true } */
    check: CheckOptions;
    /** Longest wait for the server to be UP on every load balancer, in ms. @default 60000 */
    attachTimeoutMs: number;
    drain: DrainSettings;
    /** Credentials for `ssh://` endpoints and health files; a Pulumi secret. */
    ssh?: SshCredentials;
}

export const MEMBERSHIP_DEFAULTS = {
    weight: 1,
    attachTimeoutMs: 60_000,
    drain: { method: "drain", timeoutMs: 300_000, onTimeout: "fail", pollIntervalMs: 250 },
} as const;

const HEALTH_FILE_PATTERN = /^file:\/\/(\/[A-Za-z0-9._/-]+)$/;

function validateEnum<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) throw new RuntimeInputError(field, value, `one of ${allowed.join(", ")}`);
    return value as T;
}

function validateLoadBalancers(value: unknown): LoadBalancerRef[] {
    if (!Array.isArray(value) || value.length === 0) {
        throw new RuntimeInputError("loadBalancers", value, "a non-empty list of { name, endpoint }");
    }
    const names = new Set<string>();
    return value.map((lb, i) => {
        const o = validateKeys(`loadBalancers[${i}]`, lb, ["name", "endpoint", "instance"]);
        const name = validateName(`loadBalancers[${i}].name`, o.name);
        if (names.has(name)) throw new RuntimeInputError(`loadBalancers[${i}].name`, name, "a name not used by another load balancer");
        names.add(name);
        if (typeof o.endpoint !== "string") throw new RuntimeInputError(`loadBalancers[${i}].endpoint`, o.endpoint, "an endpoint URL");
        parseEndpoint(o.endpoint, `loadBalancers[${i}].endpoint`);
        if (o.instance !== undefined && (typeof o.instance !== "string" || !/^[A-Za-z0-9._:-]{1,64}$/.test(o.instance))) {
            throw new RuntimeInputError(`loadBalancers[${i}].instance`, o.instance, "up to 64 letters, digits, '.', '_', ':', '-'");
        }
        return { name, endpoint: o.endpoint, ...(o.instance !== undefined ? { instance: o.instance } : {}) };
    });
}

function validateDrain(value: unknown): DrainSettings {
    const o = validateKeys("drain", value ?? {}, ["method", "healthFile", "timeoutMs", "onTimeout", "pollIntervalMs"]);
    const d = MEMBERSHIP_DEFAULTS.drain;
    const method = validateEnum("drain.method", o.method ?? d.method, ["drain", "healthcheck"] as const);
    let healthFile: string | undefined;
    if (method === "healthcheck") {
        if (typeof o.healthFile !== "string" || !HEALTH_FILE_PATTERN.test(o.healthFile) || o.healthFile.includes("..")) {
            throw new RuntimeInputError("drain.healthFile", o.healthFile, "file:///abs/path (letters, digits, '.', '_', '-', '/'; no '..')");
        }
        healthFile = o.healthFile;
    } else if (o.healthFile !== undefined) {
        throw new RuntimeInputError("drain.healthFile", o.healthFile, "only with drain.method healthcheck");
    }
    return {
        method,
        ...(healthFile ? { healthFile } : {}),
        timeoutMs: validateInteger("drain.timeoutMs", o.timeoutMs ?? d.timeoutMs, 1, 7 * 24 * 3600_000),
        onTimeout: validateEnum("drain.onTimeout", o.onTimeout ?? d.onTimeout, ["fail", "force"] as const),
        pollIntervalMs: validateInteger("drain.pollIntervalMs", o.pollIntervalMs ?? d.pollIntervalMs, 10, 60_000),
    };
}

function validateSsh(value: unknown): SshCredentials | undefined {
    if (value === undefined) return undefined;
    const o = validateKeys("ssh", value, ["privateKey", "passphrase", "hostKeySha256"]);
    if (typeof o.privateKey !== "string" || !o.privateKey.includes("PRIVATE KEY")) {
        // Never echo a secret: name the field only.
        throw new RuntimeInputError("ssh.privateKey", "(secret)", "a private key in OpenSSH or PEM format");
    }
    if (o.passphrase !== undefined && typeof o.passphrase !== "string") {
        throw new RuntimeInputError("ssh.passphrase", "(secret)", "a string");
    }
    if (o.hostKeySha256 !== undefined && (typeof o.hostKeySha256 !== "string" || !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(o.hostKeySha256))) {
        throw new RuntimeInputError("ssh.hostKeySha256", o.hostKeySha256, "SHA256:<base64> as `ssh-keygen -lf` prints it");
    }
    return {
        privateKey: o.privateKey,
        ...(o.passphrase !== undefined ? { passphrase: o.passphrase as string } : {}),
        ...(o.hostKeySha256 !== undefined ? { hostKeySha256: o.hostKeySha256 as string } : {}),
    };
}

/** Validates raw inputs and fills defaults; throws RuntimeInputError naming the first bad field. */
export function resolveMembershipSpec(raw: Record<string, unknown>): MembershipSpec {
    const o = validateKeys("inputs", raw, [
        "loadBalancers", "backend", "server", "address", "port", "weight", "check", "attachTimeoutMs", "drain", "ssh",
    ]);
    const loadBalancers = validateLoadBalancers(o.loadBalancers);
    const needsSsh = loadBalancers.some((lb) => lb.endpoint.startsWith("ssh://"));
    const ssh = validateSsh(o.ssh);
    if (needsSsh && !ssh) throw new RuntimeInputError("ssh", "(missing)", "SSH credentials, since a load balancer endpoint is ssh://");
    const spec: MembershipSpec = {
        loadBalancers,
        backend: validateName("backend", o.backend),
        server: validateName("server", o.server),
        address: validateAddress("address", o.address),
        port: validatePort("port", o.port),
        weight: validateWeight("weight", o.weight ?? MEMBERSHIP_DEFAULTS.weight),
        check: validateCheck("check", o.check ?? { enabled: true }),
        attachTimeoutMs: validateInteger("attachTimeoutMs", o.attachTimeoutMs ?? MEMBERSHIP_DEFAULTS.attachTimeoutMs, 1, 24 * 3600_000),
        drain: validateDrain(o.drain),
    };
    if (spec.drain.method === "healthcheck" && !spec.check.enabled) {
        throw new RuntimeInputError("drain.method", "healthcheck", "drain (the healthcheck method needs check.enabled)");
    }
    return ssh ? { ...spec, ssh } : spec;
}

/** Fields whose change needs a new server: HAProxy cannot change them at run time. */
export const REPLACE_FIELDS = ["backend", "server", "address", "port", "check"] as const;
