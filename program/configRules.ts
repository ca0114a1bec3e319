/**
 * The stack config's cross-field rules (config.ts): what a single key's schema cannot express, read from
 * the raw values so that they are reported together with the schema's own problems.
 */
import { parseEndpoint, type Endpoint } from "../src/haproxy/runtime/endpoint";
import { keysForHost, knownHostName, knownHostsProblems, parseKnownHosts } from "../src/haproxy/runtime/knownHosts";
import type { ServerSpec } from "../src/plan";
import { DEFAULTS } from "../src/defaults";
import { INSTANCE_MISSING, resolvePrometheusSettings, withoutInstance, type PrometheusSettings } from "../src/haproxy/rollout/prometheusSettings";
import { RuntimeInputError } from "../src/haproxy/runtime/validate";

/** `ms` in seconds: the stack config gives the longer times in seconds. */
export const seconds = (ms: number) => ms / 1000;

/** The loosely typed view of raw config that cross-field rules read before the schema has passed. */
export interface LooseConfig {
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
        rollout?: {
            steps?: { percent?: unknown; bakeSeconds?: unknown }[];
            analysis?: { windowSeconds?: unknown };
            prometheus?: { url?: unknown; instances?: Record<string, unknown>; job?: unknown; timeoutMs?: unknown };
        };
    };
    forgetLoadBalancers?: unknown;
    database?: { kind?: unknown; volume?: unknown; rds?: { instanceIdentifier?: unknown; clusterIdentifier?: unknown }; port?: unknown; migration?: { version?: unknown; command?: unknown } };
    aws?: { databaseHost?: unknown; region?: unknown; autoScaling?: { minSize?: unknown; maxSize?: unknown } };
    sshHostKeySha256?: unknown;
    sshKnownHosts?: unknown;
    sshAllowUnknownHostKeys?: unknown;
}

/** Reports one problem: the config key and what is wrong with it. */
export type AddProblem = (path: string, message: string) => void;

/**
 * Cross-field rules that a single key cannot express. They read the raw values defensively, so that they
 * are reported together with the schema's own problems. Defaults are those of the schema.
 */
export function crossFieldProblems(raw: LooseConfig, add: AddProblem): void {
    const target = raw.target ?? DEFAULTS.stack.target;
    const size = typeof raw.pool?.size === "number" ? raw.pool.size : DEFAULTS.pool.size;
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
    const drainTimeout = seconds(DEFAULTS.membership.drain.timeoutMs);
    if (typeof drain?.minimumSeconds === "number" && drain.minimumSeconds >= (typeof drain.timeoutSeconds === "number" ? drain.timeoutSeconds : drainTimeout)) {
        add("haproxy.drain.minimumSeconds", `is ${drain.minimumSeconds} but the drain times out after ${drain.timeoutSeconds ?? drainTimeout} s (haproxy.drain.timeoutSeconds)`);
    }
    if (Array.isArray(raw.haproxy?.adopt) && raw.haproxy.adopt.length > 0 && raw.haproxy.runtimeOnly === true) {
        add("haproxy.adopt", "needs servers files (haproxy.runtimeOnly: false): adopted servers removed only at run time would come back at the next reload");
    }
    rolloutProblems(raw.haproxy, add);
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
        autoScalingProblems(raw, size, add);
    } else {
        const db = raw.database;
        if (db?.kind !== undefined && db.kind !== "postgres") add("database.kind", `"${db.kind}" is for the aws target; the local target runs its own PostgreSQL (postgres)`);
        for (const key of ["volume", "rds"] as const) if (db?.[key] !== undefined) add(`database.${key}`, "is for the aws target only");
        if (db?.migration?.command !== undefined) add("database.migration.command", "is for the aws target only; the local target applies the SQL files of app/migrations");
        if (typeof db?.migration?.version === "string" && !/^\d{4,16}$/.test(db.migration.version)) {
            add("database.migration.version", `"${db.migration.version}" must be the version of a migration file (4 to 16 digits) on the local target`);
        }
    }
}

/** `haproxy.rollout`: rising percents ending at 100, bakes of a window or more, servers files, Prometheus naming every load balancer. */
function rolloutProblems(haproxy: LooseConfig["haproxy"], add: AddProblem): void {
    const rollout = haproxy?.rollout;
    if (rollout === undefined) return;
    if (haproxy?.runtimeOnly === true) add("haproxy.rollout", "needs servers files (haproxy.runtimeOnly: false): a reload would lose the step weights");
    const steps = Array.isArray(rollout.steps) ? rollout.steps : [];
    const window = typeof rollout.analysis?.windowSeconds === "number" ? rollout.analysis.windowSeconds : seconds(DEFAULTS.rollout.analysis.windowMs);
    steps.forEach((step, i) => {
        const previous = i > 0 ? steps[i - 1]?.percent : undefined;
        if (typeof step?.percent === "number" && typeof previous === "number" && step.percent <= previous) add(`haproxy.rollout.steps.${i}.percent`, `is ${step.percent}, not above the step before (${previous})`);
        if (typeof step?.bakeSeconds === "number" && step.bakeSeconds < window) add(`haproxy.rollout.steps.${i}.bakeSeconds`, `is ${step.bakeSeconds}, shorter than one analysis window (haproxy.rollout.analysis.windowSeconds ${window})`);
    });
    const last = steps[steps.length - 1]?.percent;
    if (typeof last === "number" && last !== 100) add(`haproxy.rollout.steps.${steps.length - 1}.percent`, `is ${last}: the last step must be 100`);
    const prometheus = rollout.prometheus;
    if (prometheus !== undefined) {
        try {
            resolvePrometheusSettings(prometheus as PrometheusSettings);
        } catch (err) {
            if (!(err instanceof RuntimeInputError)) throw err;
            add(`haproxy.${err.field}`, err.message.slice(err.field.length + 2));
        }
        const names = (Array.isArray(haproxy?.loadBalancers) ? haproxy.loadBalancers : []).flatMap((lb) => (typeof lb?.name === "string" ? [lb.name] : []));
        for (const lb of withoutInstance(prometheus.instances, names)) add(`haproxy.rollout.prometheus.instances.${lb}`, `is missing: ${INSTANCE_MISSING}`);
    }
}

/** The aws target's database: EBS (a volume id) or RDS (exactly one identifier), a migration command, no port. */
function databaseProblems(db: LooseConfig["database"], add: AddProblem): void {
    const kind = db?.kind ?? DEFAULTS.aws.databaseKind;
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
function hostKeyProblems(raw: LooseConfig, add: AddProblem): void {
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

/** Server arrays (`aws.autoScaling`): a region for the plugin's own calls, no canaries, the pool's size within the bounds. */
function autoScalingProblems(raw: LooseConfig, size: number, add: AddProblem): void {
    const scaling = raw.aws?.autoScaling;
    if (scaling === undefined) return;
    if (raw.aws?.region === undefined) add("aws.region", "is required with aws.autoScaling: the plugin suspends, resumes and reads the groups in that region");
    if (typeof raw.canarySize === "number" && raw.canarySize > 0) add("canarySize", "must be 0 with aws.autoScaling: an Auto Scaling group starts its servers together");
    const { minSize, maxSize } = scaling;
    if (typeof minSize === "number" && typeof maxSize === "number") {
        if (minSize > maxSize) add("aws.autoScaling.minSize", `is ${minSize}, above maxSize ${maxSize}`);
        else if (size < minSize || size > maxSize) add("pool.size", `is ${size}, outside aws.autoScaling's ${minSize} to ${maxSize}: the released group must keep the flip's size`);
    }
}
