/**
 * The stack configuration, parsed in one place.
 *
 * Every problem is reported at once, each with its config key, what is allowed and an example, before
 * any resource is registered. Defaults are resolved here and nowhere else.
 */
import { z } from "zod";
import { parseEndpoint, type Endpoint } from "../src/haproxy/runtime/endpoint";
import { keysForHost, knownHostName, knownHostsProblems, parseKnownHosts } from "../src/haproxy/runtime/knownHosts";
import { validateServerOptions, type ServerOptions } from "../src/haproxy/serverOptions";
import type { ServerSpec } from "../src/plan";
import { RuntimeInputError } from "../src/haproxy/runtime/validate";
import { CONFIG_HELP } from "./configHelp";

/** Short generation label: becomes part of resource names and HAProxy server names. */
export const GENERATION_PATTERN = /^[a-z][a-z0-9]{0,11}$/;
/** Names that end up in HAProxy identifiers and resource names. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,23}$/;
/** Environment variable names of app inputs. */
const INPUT_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,63}$/;
/** RDS DB instance and cluster identifiers. */
const RDS_IDENTIFIER_PATTERN = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;
/** Migration versions: sortable labels such as 0002 or 2026-11-21-add-index. */
const MIGRATION_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** An OpenSSH SHA256 host key fingerprint as `ssh-keygen -lf` prints it. */
const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

const generation = z.string().regex(GENERATION_PATTERN);

/** Server options, validated by the same rules as the Membership's input (serverOptions.ts). */
const serverOptions = z.unknown().transform((value, ctx): ServerOptions => {
    try {
        return validateServerOptions("serverOptions", value);
    } catch (err) {
        if (!(err instanceof RuntimeInputError)) throw err;
        ctx.addIssue({ code: "custom", message: err.message, path: err.field.split(".").slice(1) });
        return z.NEVER;
    }
});
const name = z.string().regex(NAME_PATTERN);
const port = z.number().int().min(1).max(65535);
const noControl = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);

const serverSpec = z
    .object({
        image: z.string().regex(/^ami-[0-9a-f]{8,17}$/),
        instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/),
        appRepository: z.string().regex(/^[A-Za-z0-9+.:/@_~%][A-Za-z0-9+.:/@_~%-]*$/),
        appRef: z.string().regex(/^[A-Za-z0-9._][A-Za-z0-9._/-]{0,127}$/),
        inputs: z.record(z.string().regex(INPUT_NAME_PATTERN), z.string().max(4096).refine(noControl)),
    })
    .partial()
    .strict();

const loadBalancer = z
    .object({
        name,
        endpoint: z
            .string()
            .min(1)
            .superRefine((url, ctx) => {
                try {
                    parseEndpoint(url, "the URL");
                } catch (err) {
                    ctx.addIssue({ code: "custom", message: (err as Error).message });
                }
            })
            .optional(),
        frontendUrl: z.string().regex(/^https?:\/\/[^\s"'`]+$/).optional(),
        frontendPort: z.number().int().min(1024).max(65535).optional(),
        sshHostKeySha256: z.string().regex(FINGERPRINT_PATTERN).optional(),
    })
    .strict();

const schema = z
    .object({
        generation,
        target: z.enum(["local", "aws"]).default("local"),
        protect: z.boolean().default(false),
        canarySize: z.number().int().min(0).default(0),
        pool: z
            .object({
                size: z.number().int().min(1).max(200).default(2),
                namePrefix: name.default("app"),
                port: port.default(8080),
                spec: serverSpec.default({}),
                generations: z.record(generation, serverSpec).default({}),
                standby: z.boolean().default(false),
            })
            .strict()
            .default({ size: 2, namePrefix: "app", port: 8080, spec: {}, generations: {}, standby: false }),
        healthCheck: z
            .object({
                path: z.string().regex(/^\/[A-Za-z0-9._~/%?=&-]*$/).default("/health"),
                expectedStatus: z.number().int().min(100).max(599).default(200),
                timeoutSeconds: z.number().min(1).max(3600).default(120),
                intervalMs: z.number().int().min(100).max(60000).default(1000),
                rise: z.number().int().min(1).max(10).default(2),
                fall: z.number().int().min(1).max(10).default(2),
            })
            .strict()
            .prefault({}),
        haproxy: z
            .object({
                backend: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/).default("app"),
                loadBalancers: z.array(loadBalancer).min(1),
                runtimeOnly: z.boolean().default(false),
                serversFile: z.string().regex(/^(\/[A-Za-z0-9_.@+-]+)+$/).optional(),
                backendDefaults: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/).optional(),
                attachTimeoutSeconds: z.number().min(1).max(3600).default(60),
                serverOptions: serverOptions.default({}),
                generations: z.record(generation, z.object({ serverOptions }).strict()).default({}),
                adopt: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/)).default([]),
                drain: z
                    .object({
                        method: z.enum(["drain", "healthcheck"]).default("drain"),
                        timeoutSeconds: z.number().min(1).max(86400).default(300),
                        onTimeout: z.enum(["fail", "force"]).default("fail"),
                        pollIntervalMs: z.number().int().min(50).max(10000).default(250),
                        quietPeriodSeconds: z.number().min(0).max(86400).default(2),
                        minimumSeconds: z.number().min(0).max(86400).default(0),
                    })
                    .strict()
                    .prefault({}),
            })
            .strict(),
        forgetLoadBalancers: z.array(name).default([]),
        database: z
            .object({
                kind: z.enum(["postgres", "ebs", "rds"]).optional(),
                volume: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).optional(),
                rds: z
                    .object({
                        instanceIdentifier: z.string().regex(RDS_IDENTIFIER_PATTERN).optional(),
                        clusterIdentifier: z.string().regex(RDS_IDENTIFIER_PATTERN).optional(),
                    })
                    .strict()
                    .optional(),
                port: z.number().int().min(1024).max(65535).optional(),
                migration: z
                    .object({
                        version: z.string().regex(MIGRATION_VERSION_PATTERN),
                        command: z.array(z.string().min(1).max(4096).refine(noControl)).min(1).optional(),
                    })
                    .strict(),
            })
            .strict(),
        aws: z
            .object({
                region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional(),
                subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/)).min(1),
                securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/)).default([]),
                keyName: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/).optional(),
                instanceProfile: z.string().regex(/^[A-Za-z0-9+=,.@_-]{1,128}$/).optional(),
                databaseHost: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/),
                databaseUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/).default("ops"),
            })
            .strict()
            .optional(),
        sshHostKeySha256: z.string().regex(FINGERPRINT_PATTERN).optional(),
        sshKnownHosts: z
            .string()
            .superRefine((text, ctx) => knownHostsProblems(text).forEach((message) => ctx.addIssue({ code: "custom", message })))
            .optional(),
        sshAllowUnknownHostKeys: z.boolean().default(false),
    })
    .strict();

/** The loosely typed view of raw config that cross-field rules read before the schema has passed. */
interface LooseConfig {
    generation?: unknown;
    target?: unknown;
    canarySize?: unknown;
    pool?: { size?: unknown; spec?: Partial<ServerSpec>; generations?: Record<string, Partial<ServerSpec>> };
    haproxy?: {
        loadBalancers?: { name?: unknown; endpoint?: unknown; frontendUrl?: unknown; frontendPort?: unknown; sshHostKeySha256?: unknown }[];
        drain?: { method?: unknown; timeoutSeconds?: unknown; minimumSeconds?: unknown };
        adopt?: unknown;
        runtimeOnly?: unknown;
        serversFile?: unknown;
        backendDefaults?: unknown;
    };
    forgetLoadBalancers?: unknown;
    database?: { kind?: unknown; volume?: unknown; rds?: { instanceIdentifier?: unknown; clusterIdentifier?: unknown }; port?: unknown; migration?: { version?: unknown; command?: unknown } };
    aws?: { databaseHost?: unknown };
    sshHostKeySha256?: unknown;
    sshKnownHosts?: unknown;
    sshAllowUnknownHostKeys?: unknown;
}

/**
 * Cross-field rules that a single key cannot express. They read the raw values defensively, so that they
 * are reported together with the schema's own problems. Defaults are those of the schema.
 */
function crossFieldProblems(raw: LooseConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const add = (path: string, message: string) => problems.push(problem(path, message));
    const target = raw.target ?? "local";
    const size = typeof raw.pool?.size === "number" ? raw.pool.size : 2;
    if (typeof raw.canarySize === "number" && raw.canarySize >= size) {
        add("canarySize", `is ${raw.canarySize} but the pool has ${size} servers`);
    }
    const seen = new Set<unknown>();
    (Array.isArray(raw.haproxy?.loadBalancers) ? raw.haproxy.loadBalancers : []).forEach((lb, i) => {
        if (seen.has(lb?.name)) add(`haproxy.loadBalancers.${i}.name`, `"${lb.name}" is used twice`);
        seen.add(lb?.name);
        if (target === "aws") {
            if (!lb?.endpoint) add(`haproxy.loadBalancers.${i}.endpoint`, "is required on the aws target");
            if (!lb?.frontendUrl) add(`haproxy.loadBalancers.${i}.frontendUrl`, "is required on the aws target");
            if (lb?.frontendPort !== undefined) add(`haproxy.loadBalancers.${i}.frontendPort`, "is for the local target only");
        } else if (lb?.endpoint !== undefined || lb?.frontendUrl !== undefined) {
            add(`haproxy.loadBalancers.${i}.endpoint`, "the local target starts its own HAProxy: give name and frontendPort only");
        }
    });
    (Array.isArray(raw.forgetLoadBalancers) ? raw.forgetLoadBalancers : []).forEach((forgotten, i) => {
        if (seen.has(forgotten)) add(`forgetLoadBalancers.${i}`, `"${forgotten}" is still in haproxy.loadBalancers: remove it there first`);
    });
    const drain = raw.haproxy?.drain;
    if (typeof drain?.minimumSeconds === "number" && drain.minimumSeconds >= (typeof drain.timeoutSeconds === "number" ? drain.timeoutSeconds : 300)) {
        add("haproxy.drain.minimumSeconds", `is ${drain.minimumSeconds} but the drain times out after ${drain.timeoutSeconds ?? 300} s (haproxy.drain.timeoutSeconds)`);
    }
    if (Array.isArray(raw.haproxy?.adopt) && raw.haproxy.adopt.length > 0 && raw.haproxy.runtimeOnly === true) {
        add("haproxy.adopt", "needs servers files (haproxy.runtimeOnly: false): adopted servers removed only at run time would come back at the next reload");
    }
    if (target !== "aws" && (raw.haproxy?.serversFile !== undefined || raw.haproxy?.backendDefaults !== undefined)) {
        add(raw.haproxy?.serversFile !== undefined ? "haproxy.serversFile" : "haproxy.backendDefaults", "is for the aws target only; the local target writes its own");
    }
    if (target === "aws") {
        if (raw.haproxy?.drain?.method === "healthcheck") {
            add("haproxy.drain.method", "healthcheck is for the local target only; the aws target drains with HAProxy's drain state");
        }
        if (!raw.aws) add("aws", "is required on the aws target");
        databaseProblems(raw.database, add);
        const generation = typeof raw.generation === "string" ? raw.generation : "";
        const spec = { ...raw.pool?.spec, ...raw.pool?.generations?.[generation] };
        for (const key of ["image", "instanceType", "appRepository", "appRef"] as const) {
            if (!spec[key]) add(`pool.spec.${key}`, "is required on the aws target (in pool.spec or pool.generations)");
        }
        hostKeyProblems(raw, add);
    } else {
        const db = raw.database;
        if (db?.kind !== undefined && db.kind !== "postgres") add("database.kind", `"${db.kind}" is for the aws target; the local target runs its own PostgreSQL (postgres)`);
        for (const key of ["volume", "rds"] as const) if (db?.[key] !== undefined) add(`database.${key}`, "is for the aws target only");
        if (db?.migration?.command !== undefined) add("database.migration.command", "is for the aws target only; the local target applies the SQL files of app/migrations");
        if (typeof db?.migration?.version === "string" && !/^\d{4,16}$/.test(db.migration.version)) {
            add("database.migration.version", `"${db.migration.version}" must be the version of a migration file (4 to 16 digits) on the local target`);
        }
    }
    return problems;
}

/** The aws target's database: EBS (a volume id) or RDS (exactly one identifier), a migration command, no port. */
function databaseProblems(db: LooseConfig["database"], add: (path: string, message: string) => void): void {
    const kind = db?.kind ?? "ebs";
    if (kind === "postgres") add("database.kind", "postgres is the local target's; on aws use ebs or rds");
    if (db?.port !== undefined) add("database.port", "is for the local target only");
    if (db?.migration?.command === undefined) add("database.migration.command", "is required on the aws target: it runs on aws.databaseHost over SSH");
    if (kind === "ebs") {
        if (db?.volume === undefined) add("database.volume", "is required on the aws target with kind ebs (an EBS volume id, vol-...)");
        else if (typeof db.volume === "string" && !/^vol-[0-9a-f]{8,17}$/.test(db.volume)) add("database.volume", `"${db.volume}" must be an EBS volume id (vol-...) on the aws target`);
        if (db?.rds !== undefined) add("database.rds", "is for kind rds only");
    }
    if (kind === "rds") {
        if (db?.volume !== undefined) add("database.volume", "is for kind ebs only");
        const ids = [db?.rds?.instanceIdentifier, db?.rds?.clusterIdentifier].filter((v) => v !== undefined);
        if (ids.length !== 1) add("database.rds", "Only one of `instanceIdentifier` or `clusterIdentifier` can be provided, and one is required with kind rds");
    }
}

/**
 * aws target: every ssh:// load balancer and the database host (where the migration runs) need a host
 * key to verify, unless sshAllowUnknownHostKeys. A load balancer is covered by its own or the global
 * sshHostKeySha256 or by an sshKnownHosts line; the database host only by an sshKnownHosts line,
 * because @pulumi/command pins a public key, not a fingerprint. Skipped while sshKnownHosts itself is
 * invalid (the schema reports that).
 */
function hostKeyProblems(raw: LooseConfig, add: (path: string, message: string) => void): void {
    if (raw.sshAllowUnknownHostKeys === true) return;
    const knownHosts = typeof raw.sshKnownHosts === "string" ? raw.sshKnownHosts : "";
    if (knownHostsProblems(knownHosts).length > 0) return;
    const known = parseKnownHosts(knownHosts);
    const unverified = "or set sshAllowUnknownHostKeys: true to connect unverified";
    (Array.isArray(raw.haproxy?.loadBalancers) ? raw.haproxy.loadBalancers : []).forEach((lb, i) => {
        if (typeof lb?.endpoint !== "string" || !lb.endpoint.startsWith("ssh://")) return;
        if (lb.sshHostKeySha256 !== undefined || raw.sshHostKeySha256 !== undefined) return;
        let endpoint: Endpoint;
        try {
            endpoint = parseEndpoint(lb.endpoint, "the URL");
        } catch {
            return; // the schema reports an invalid endpoint
        }
        if (endpoint.kind !== "ssh" || keysForHost(known, endpoint.host, endpoint.port).length > 0) return;
        const { host, port } = endpoint;
        const keyscan = `ssh-keyscan ${port === 22 ? "" : `-p ${port} `}${host}`;
        add(
            `haproxy.loadBalancers.${i}.sshHostKeySha256`,
            `the SSH host ${knownHostName(host, port)} has no host key to verify: set this, sshHostKeySha256 (every host) or add the output of \`${keyscan}\` to sshKnownHosts, ${unverified}`,
        );
    });
    const databaseHost = raw.aws?.databaseHost;
    if (typeof databaseHost === "string" && keysForHost(known, databaseHost, 22).length === 0) {
        add(
            "sshKnownHosts",
            `has no line for aws.databaseHost ${databaseHost}, whose host key the migration's SSH connection verifies: add the output of \`ssh-keyscan ${databaseHost}\` (sshHostKeySha256 cannot be used there), ${unverified}`,
        );
    }
}

export interface ConfigProblem {
    /** The config key, e.g. `haproxy.drain.timeoutSeconds`. */
    path: string;
    message: string;
}

function helpFor(path: string) {
    return CONFIG_HELP[path] ?? CONFIG_HELP[path.replace(/\.\d+(?=\.|$)/g, ".*")] ?? CONFIG_HELP[path.replace(/\.[^.]+$/, ".*")];
}

function problem(path: string, message: string): ConfigProblem {
    const help = helpFor(path);
    const hint = help ? ` (allowed: ${help.allowed}; example: ${help.example})` : "";
    return { path, message: `${path}: ${message}${hint}` };
}

/** Raised with every problem of a configuration; the message lists them one per line. */
export class ConfigError extends Error {
    constructor(readonly problems: ConfigProblem[], readonly namespace: string) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${namespace}:${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export type DeploymentConfig = z.infer<typeof schema>;

/**
 * Parses raw config values (as `pulumi.Config.getObject` returns them) into a complete, defaulted
 * configuration, or throws one ConfigError listing every problem. Pure: exported for tests.
 */
export function parseDeploymentConfig(raw: Record<string, unknown>, namespace = "haproxy-bluegreen"): DeploymentConfig {
    const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    // reportInput: a value of the wrong type is "invalid", not "required" (issue.input is set only then).
    const parsed = schema.safeParse(defined, { reportInput: true });
    const crossField = crossFieldProblems(defined as LooseConfig);
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => {
            const path = issue.path.map(String).join(".") || "(root)";
            if (issue.code === "unrecognized_keys") {
                const keys = issue.keys.map((k) => (path === "(root)" ? k : `${path}.${k}`));
                return { path: keys[0], message: `${keys.join(", ")}: unknown key (check the spelling)` };
            }
            const received = issue.code === "invalid_type" && issue.input === undefined ? "is required" : `is invalid: ${issue.message}`;
            return problem(path, received);
        });
        throw new ConfigError([...problems, ...crossField], namespace);
    }
    if (crossField.length > 0) throw new ConfigError(crossField, namespace);
    return parsed.data;
}

/** The keys `parseDeploymentConfig` reads from the stack config (stackConfig.ts reads each with the getter of its type). */
export const CONFIG_KEYS = [
    "generation", "target", "protect", "canarySize", "pool", "healthCheck", "haproxy", "forgetLoadBalancers", "database", "aws",
    "sshHostKeySha256", "sshKnownHosts", "sshAllowUnknownHostKeys",
] as const;
