/**
 * The resolved, validated inputs of a Membership: what the provider works from, and what it stores as
 * outputs so that a delete (which gets only the stored outputs) can drain and detach on its own.
 * Pure: exported for tests.
 */
import { DEFAULTS } from "../defaults";
import { parseEndpoint } from "./runtime/endpoint";
import { validateHostPath } from "./runtime/hostFiles";
import { parseKnownHosts } from "./runtime/knownHosts";
import { validateServerOptions, type ServerOptions } from "./serverOptions";
import type { SshCredentials } from "./runtime/transport";
import { validateOwner, type ServerOwner } from "./ownership";
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
} from "./runtime/validate";

/** One load balancer: a name for messages and its Runtime API endpoint. */
export interface LoadBalancerRef {
    name: string;
    /** `unix:///path/admin.sock`, `tcp://host:port` or `ssh://user@host[:port]/path/admin.sock` */
    endpoint: string;
    /**
     * Absolute path, on the load balancer's host, of the servers file: the backend's section with the
     * servers this plugin manages, loaded by HAProxy at every start and reload. Required unless the
     * membership is `runtimeOnly`. @default none
     */
    serversFile?: string;
    /** The `defaults` section the servers file's backend takes its settings from (`backend <b> from <name>`). @default none */
    backendDefaults?: string;
    /** Expected SSH host key fingerprint of this load balancer's host (`SHA256:...`). @default `ssh.hostKeySha256` */
    hostKeySha256?: string;
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
    /**
     * How long the server's sessions must stay at zero before it is removed, in ms: a client that holds
     * a persistence cookie between two requests has no session open, and drain state still sends it to
     * its server (runbook steps 12 and 13). @default 2000
     */
    quietPeriodMs: number;
    /** Shortest drain, in ms, however soon the sessions reach zero (the runbook's session TTL, step 18). @default 0 */
    minimumMs: number;
    /**
     * How long a tunnel (a WebSocket after its upgrade, a `CONNECT`) may keep the draining server, in ms:
     * it never ends by itself, so once the drain is this old each tunnel still open is shut
     * (`shutdown session`), on the process that answers, and its client reconnects to a serving server.
     * Ordinary requests are waited for until `timeoutMs`. @default 30000
     */
    tunnelGraceMs: number;
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
    /** TLS, limits, cookie and the rest of what the operator's own server lines say. @default {} */
    options: ServerOptions;
    /** Longest wait for the server to be UP on every load balancer, in ms. @default 60000 */
    attachTimeoutMs: number;
    /**
     * Longest wait, once its sessions ended, for the server to be removable on a load balancer (HAProxy
     * 2.6 keeps idle pooled connections for `pool-purge-delay`) and for a reachable process, in ms. @default 30000
     */
    detachTimeoutMs: number;
    drain: DrainSettings;
    /** Credentials for `ssh://` endpoints and health files; a Pulumi secret. */
    ssh?: SshCredentials;
    /**
     * A server of the operator's own fleet, taken over to be removed (adoption.ts): its own line in the
     * servers file is kept as written, with `weight 0` while it drains, and removed with it. @default false
     */
    adopted?: boolean;
    /**
     * Keep the membership only in the running HAProxy processes, without servers files: a reload or
     * restart loses the server until the next `pulumi up` repairs it. Needed for `tcp://` endpoints.
     * @default false
     */
    runtimeOnly?: boolean;
    /**
     * The stack and resource that own the server (ownership.ts), recorded on its line in the servers
     * file; kept from the resource's create on. @default none (state written before owners: such a
     * membership touches only lines without an owner)
     */
    owner?: ServerOwner;
}

/** An OpenSSH SHA256 host key fingerprint. */
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

const HEALTH_FILE_PATTERN = /^file:\/\/(\/[A-Za-z0-9._/-]+)$/;

function validateEnum<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) throw new RuntimeInputError(field, value, `one of ${allowed.join(", ")}`);
    return value as T;
}

function validateLoadBalancers(value: unknown, runtimeOnly: boolean): LoadBalancerRef[] {
    if (!Array.isArray(value) || value.length === 0) {
        throw new RuntimeInputError("loadBalancers", value, "a non-empty list of { name, endpoint, serversFile }");
    }
    const names = new Set<string>();
    return value.map((lb, i) => {
        const field = `loadBalancers[${i}]`;
        const o = validateKeys(field, lb, ["name", "endpoint", "serversFile", "backendDefaults", "hostKeySha256"]);
        const name = validateName(`${field}.name`, o.name);
        if (names.has(name)) throw new RuntimeInputError(`${field}.name`, name, "a name not used by another load balancer");
        names.add(name);
        if (typeof o.endpoint !== "string") throw new RuntimeInputError(`${field}.endpoint`, o.endpoint, "an endpoint URL");
        const endpoint = parseEndpoint(o.endpoint, `${field}.endpoint`);
        if (!runtimeOnly && endpoint.kind === "tcp") {
            throw new RuntimeInputError(
                `${field}.endpoint`,
                o.endpoint,
                "a unix:// or ssh:// endpoint: over tcp:// the plugin cannot write the servers file on the load balancer, so the " +
                    "servers it adds would be lost at the next reload or restart of HAProxy; use ssh://, or set runtimeOnly " +
                    "(haproxy.runtimeOnly: true) to accept that",
            );
        }
        if (!runtimeOnly && o.serversFile === undefined) {
            throw new RuntimeInputError(`${field}.serversFile`, "(missing)", "the servers file's path on the load balancer host (see docs/OPERATING.md), or runtimeOnly");
        }
        const serversFile = o.serversFile === undefined ? undefined : validateHostPath(`${field}.serversFile`, o.serversFile);
        const backendDefaults = o.backendDefaults === undefined ? undefined : validateName(`${field}.backendDefaults`, o.backendDefaults);
        if (o.hostKeySha256 !== undefined && (typeof o.hostKeySha256 !== "string" || !FINGERPRINT.test(o.hostKeySha256))) {
            throw new RuntimeInputError(`${field}.hostKeySha256`, o.hostKeySha256, "SHA256:<base64> as `ssh-keygen -lf` prints it");
        }
        return {
            name,
            endpoint: o.endpoint,
            ...(serversFile !== undefined ? { serversFile } : {}),
            ...(backendDefaults !== undefined ? { backendDefaults } : {}),
            ...(o.hostKeySha256 !== undefined ? { hostKeySha256: o.hostKeySha256 as string } : {}),
        };
    });
}

function validateDrain(value: unknown): DrainSettings {
    const o = validateKeys("drain", value ?? {}, ["method", "healthFile", "timeoutMs", "onTimeout", "pollIntervalMs", "quietPeriodMs", "minimumMs", "tunnelGraceMs"]);
    const d = DEFAULTS.membership.drain;
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
    const timeoutMs = validateInteger("drain.timeoutMs", o.timeoutMs ?? d.timeoutMs, 1, 7 * 24 * 3600_000);
    if (typeof o.minimumMs === "number" && o.minimumMs >= timeoutMs) {
        throw new RuntimeInputError("drain.minimumMs", o.minimumMs, `less than drain.timeoutMs (${timeoutMs})`);
    }
    return {
        method,
        ...(healthFile ? { healthFile } : {}),
        timeoutMs,
        onTimeout: validateEnum("drain.onTimeout", o.onTimeout ?? d.onTimeout, ["fail", "force"] as const),
        pollIntervalMs: validateInteger("drain.pollIntervalMs", o.pollIntervalMs ?? d.pollIntervalMs, 10, 60_000),
        quietPeriodMs: validateInteger("drain.quietPeriodMs", o.quietPeriodMs ?? d.quietPeriodMs, 0, 24 * 3600_000),
        minimumMs: validateInteger("drain.minimumMs", o.minimumMs ?? d.minimumMs, 0, 7 * 24 * 3600_000),
        tunnelGraceMs: validateInteger("drain.tunnelGraceMs", o.tunnelGraceMs ?? d.tunnelGraceMs, 0, 7 * 24 * 3600_000),
    };
}

function validateSsh(value: unknown): SshCredentials | undefined {
    if (value === undefined) return undefined;
    const o = validateKeys("ssh", value, ["privateKey", "passphrase", "hostKeySha256", "knownHosts", "allowUnknownHostKey"]);
    if (typeof o.privateKey !== "string" || !o.privateKey.includes("PRIVATE KEY")) {
        // Never echo a secret: name the field only.
        throw new RuntimeInputError("ssh.privateKey", "(secret)", "a private key in OpenSSH or PEM format");
    }
    if (o.passphrase !== undefined && typeof o.passphrase !== "string") {
        throw new RuntimeInputError("ssh.passphrase", "(secret)", "a string");
    }
    if (o.hostKeySha256 !== undefined && (typeof o.hostKeySha256 !== "string" || !FINGERPRINT.test(o.hostKeySha256))) {
        throw new RuntimeInputError("ssh.hostKeySha256", o.hostKeySha256, "SHA256:<base64> as `ssh-keygen -lf` prints it");
    }
    if (o.knownHosts !== undefined) {
        if (typeof o.knownHosts !== "string") throw new RuntimeInputError("ssh.knownHosts", o.knownHosts, "OpenSSH known_hosts text");
        parseKnownHosts(o.knownHosts, "ssh.knownHosts");
    }
    if (o.allowUnknownHostKey !== undefined && typeof o.allowUnknownHostKey !== "boolean") {
        throw new RuntimeInputError("ssh.allowUnknownHostKey", o.allowUnknownHostKey, "true or false");
    }
    return {
        privateKey: o.privateKey,
        ...(o.passphrase !== undefined ? { passphrase: o.passphrase as string } : {}),
        ...(o.hostKeySha256 !== undefined ? { hostKeySha256: o.hostKeySha256 as string } : {}),
        ...(o.knownHosts !== undefined ? { knownHosts: o.knownHosts as string } : {}),
        ...(o.allowUnknownHostKey !== undefined ? { allowUnknownHostKey: o.allowUnknownHostKey as boolean } : {}),
    };
}

/** Validates raw inputs and fills defaults; throws RuntimeInputError naming the first bad field. */
export function resolveMembershipSpec(raw: Record<string, unknown>): MembershipSpec {
    const o = validateKeys("inputs", raw, [
        "loadBalancers", "backend", "server", "address", "port", "weight", "check", "options", "attachTimeoutMs", "detachTimeoutMs", "drain", "ssh", "runtimeOnly", "adopted", "owner",
    ]);
    if (o.runtimeOnly !== undefined && typeof o.runtimeOnly !== "boolean") throw new RuntimeInputError("runtimeOnly", o.runtimeOnly, "true or false");
    if (o.adopted !== undefined && typeof o.adopted !== "boolean") throw new RuntimeInputError("adopted", o.adopted, "true or false");
    const runtimeOnly = (o.runtimeOnly ?? DEFAULTS.membership.runtimeOnly) as boolean;
    const loadBalancers = validateLoadBalancers(o.loadBalancers, runtimeOnly);
    const needsSsh = loadBalancers.some((lb) => lb.endpoint.startsWith("ssh://"));
    const ssh = validateSsh(o.ssh);
    if (needsSsh && !ssh) throw new RuntimeInputError("ssh", "(missing)", "SSH credentials, since a load balancer endpoint is ssh://");
    const spec: MembershipSpec = {
        loadBalancers,
        backend: validateName("backend", o.backend),
        server: validateName("server", o.server),
        address: validateAddress("address", o.address),
        port: validatePort("port", o.port),
        weight: validateWeight("weight", o.weight ?? DEFAULTS.membership.weight),
        check: validateCheck("check", o.check ?? DEFAULTS.membership.check),
        options: validateServerOptions("options", o.options),
        attachTimeoutMs: validateInteger("attachTimeoutMs", o.attachTimeoutMs ?? DEFAULTS.membership.attachTimeoutMs, 1, 24 * 3600_000),
        detachTimeoutMs: validateInteger("detachTimeoutMs", o.detachTimeoutMs ?? DEFAULTS.membership.detachTimeoutMs, 1, 24 * 3600_000),
        drain: validateDrain(o.drain),
        ...(runtimeOnly ? { runtimeOnly } : {}),
        ...(o.adopted === true ? { adopted: true } : {}),
        ...(o.owner === undefined ? {} : { owner: validateOwner("owner", o.owner) }),
    };
    if (spec.drain.method === "healthcheck" && !spec.check.enabled) {
        throw new RuntimeInputError("drain.method", "healthcheck", "drain (the healthcheck method needs check.enabled)");
    }
    return ssh ? { ...spec, ssh } : spec;
}

/**
 * Fields whose change makes another Membership resource. A new address or port is not among them: the
 * update moves the server in place, its replacement serving before the old one drains.
 */
export const REPLACE_FIELDS = ["backend", "server"] as const;

/**
 * Fields a server keeps from its attach. HAProxy cannot change them at run time, and replacing the
 * serving generation's servers to change them would take every one of them out at once; so a change
 * applies to the next generation's servers, and repairs use what the server was attached with.
 */
export const PINNED_FIELDS = ["check", "options"] as const;

/** Most servers one PoolMembership holds. */
export const MAX_POOL_SERVERS = 1000;

/** One server of a PoolMembership. */
export interface PoolServer {
    /** The server's name in the backend, e.g. `app-g2-0`. */
    server: string;
    /** IPv4, IPv6 or DNS name. */
    address: string;
    port: number;
    /** The health-check file as `file:///abs/path`, for the `healthcheck` drain method. @default none */
    healthFile?: string;
}

/** A PoolMembership's resolved inputs: what its servers share, and the servers. */
export interface PoolMembershipSpec extends Omit<MembershipSpec, "server" | "address" | "port"> {
    servers: PoolServer[];
}

/**
 * The per-server specs of a PoolMembership's raw inputs: every server with the shared settings (its
 * `healthFile` goes to `drain.healthFile`). Throws RuntimeInputError naming the first bad field
 * (`servers[3].address`, `backend`, ...).
 */
export function resolvePoolMembers(raw: Record<string, unknown>): MembershipSpec[] {
    const { servers, ...shared } = raw;
    if (!Array.isArray(servers) || servers.length === 0 || servers.length > MAX_POOL_SERVERS) {
        throw new RuntimeInputError("servers", servers, `a list of 1 to ${MAX_POOL_SERVERS} { server, address, port, healthFile? }`);
    }
    const names = new Set<string>();
    return servers.map((entry, i) => {
        const field = `servers[${i}]`;
        const o = validateKeys(field, entry, ["server", "address", "port", "healthFile"]);
        const server = validateName(`${field}.server`, o.server);
        if (names.has(server)) throw new RuntimeInputError(`${field}.server`, server, "a name not used by another server of the pool");
        names.add(server);
        const address = validateAddress(`${field}.address`, o.address);
        const port = validatePort(`${field}.port`, o.port);
        if (o.healthFile !== undefined && (typeof o.healthFile !== "string" || !HEALTH_FILE_PATTERN.test(o.healthFile) || o.healthFile.includes(".."))) {
            throw new RuntimeInputError(`${field}.healthFile`, o.healthFile, "file:///abs/path (letters, digits, '.', '_', '-', '/'; no '..')");
        }
        const sharedDrain = typeof shared.drain === "object" && shared.drain !== null ? (shared.drain as Record<string, unknown>) : undefined;
        if (o.healthFile !== undefined && sharedDrain?.method !== "healthcheck") throw new RuntimeInputError(`${field}.healthFile`, o.healthFile, "only with drain.method healthcheck");
        const drain = o.healthFile !== undefined ? { ...sharedDrain, healthFile: o.healthFile } : shared.drain;
        return resolveMembershipSpec({ ...shared, server, address, port, ...(drain === undefined ? {} : { drain }) });
    });
}

/** The PoolMembership spec that `members` (from resolvePoolMembers) make up: what it stores as outputs. */
export function poolSpecOf(members: MembershipSpec[]): PoolMembershipSpec {
    const { server: _server, address: _address, port: _port, drain, ...shared } = members[0];
    const { healthFile: _healthFile, ...sharedDrain } = drain;
    return {
        ...shared,
        drain: sharedDrain,
        servers: members.map((m) => ({ server: m.server, address: m.address, port: m.port, ...(m.drain.healthFile ? { healthFile: m.drain.healthFile } : {}) })),
    };
}
