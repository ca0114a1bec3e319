/**
 * The plan of a deployment: a pure function from the deployment's settings to what each generation
 * needs (its servers, canary batches, health gate, membership settings, smoke check) and what the
 * deployment's other children are called. The components build exactly what the plan says; tests read
 * the plan without mocks. A deployment's defaults (the table in defaults.ts) are resolved here.
 */
import { DEFAULTS } from "./defaults";
import type { DrainSettings } from "./haproxy/membershipSpec";
import type { ServerOptions } from "./haproxy/serverOptions";
import type { CheckOptions } from "./haproxy/runtime/validate";
import { childNames, poolChildNames, serverName } from "./names";
import { canaryBatches } from "./pool/canary";
import type { RolloutInput } from "./haproxy/poolMembership";
import { resolveRollout, type RolloutSpec } from "./haproxy/rollout/rolloutSpec";

/** What an app server is built from; every field is optional, a target says which it needs. */
export interface ServerSpec {
    /** Machine image (aws: an AMI id). */
    image?: string;
    /** Machine size (aws: an EC2 instance type). */
    instanceType?: string;
    /** Git URL of the application. */
    appRepository?: string;
    /** Branch, tag or commit of the application. */
    appRef?: string;
    /** Environment variables of the application. */
    inputs?: Record<string, string>;
}

/** The health check of the app servers: the gate of new servers, HAProxy's check and the smoke check. */
export interface HealthCheckSettings {
    /** URL path of the app's health check, which must prove it reaches the database. @default "/health" */
    path?: string;
    /** @default 200 */
    expectedStatus?: number;
    /** Longest wait for new servers (and the site) to pass, in ms. @default 120000 */
    timeoutMs?: number;
    /** Interval between two checks, in ms. @default 1000 */
    intervalMs?: number;
    /** Consecutive passes to count as healthy. @default 2 */
    rise?: number;
    /** Consecutive failures to count as down. @default 2 */
    fall?: number;
}

/** The app servers of every generation. */
export interface PoolSettings {
    /** Servers per generation, 1 to 200. */
    size: number;
    /** First part of server names: `<namePrefix>-<generation>-<index>`. @default "app" */
    namePrefix?: string;
    /** Port the app listens on (the local target picks free ports). @default 8080 */
    port?: number;
    /** Servers that must pass their health check before the rest are created (runbook step 8). @default 0 */
    canarySize?: number;
    /** What every generation's servers are built from. @default {} */
    spec?: ServerSpec;
    /** Per-generation overrides of `spec` (`inputs` are merged key by key). @default {} */
    generations?: Record<string, ServerSpec>;
}

/** How servers join and leave the load balancers. */
export interface HaproxySettings {
    /** The HAProxy backend of the app servers. @default "app" */
    backend?: string;
    /** Longest wait for a server to be UP on every load balancer, in ms. @default 60000 */
    attachTimeoutMs?: number;
    /** Longest wait for a drained server to be removable. @default Membership's (30 s) */
    detachTimeoutMs?: number;
    /** How old servers leave. @default Membership's: drain state, 300 s, fail, 250 ms polls, 2 s quiet period, 30 s for tunnels */
    drain?: Partial<DrainSettings>;
    /** What the backend's own server lines say (TLS, maxconn, cookie, ...). @default {} */
    serverOptions?: ServerOptions;
    /** Per-generation server options, on top of `serverOptions`. @default {} */
    generations?: Record<string, { serverOptions?: ServerOptions }>;
    /** Keep the servers only in the running HAProxy processes (no servers files). @default false */
    runtimeOnly?: boolean;
    /** Names of an existing fleet's servers, retired once the new generation serves. @default [] */
    adopt?: string[];
    /** Shift traffic to a new generation in steps, analysed and rolled back on its own (PoolMembership's `rollout`). @default none */
    rollout?: RolloutInput;
}

/** What a deployment is asked to do. */
export interface DeploymentSettings {
    /** The generation that should serve, e.g. `g7`: a lowercase label, part of resource and server names. */
    generation: string;
    /** The database migration the generation needs: the snapshot is taken, and the migration run, once per version. */
    migrationVersion: string;
    pool: PoolSettings;
    /** @default see HealthCheckSettings */
    healthCheck?: HealthCheckSettings;
    /** @default see HaproxySettings */
    haproxy?: HaproxySettings;
}

/** One server of a generation. */
export interface PlannedServer {
    resourceName: string;
    serverName: string;
    index: number;
    spec: ServerSpec;
}

/** A health gate: which status, how long, how often, how many passes in a row. */
export interface GateSettings {
    expectedStatus: number;
    timeoutMs: number;
    intervalMs: number;
    consecutive?: number;
}

/** What one generation's pool needs. */
export interface PoolPlan {
    name: string;
    generation: string;
    /** First part of the servers' names. */
    namePrefix: string;
    port: number;
    healthCheckPath: string;
    servers: PlannedServer[];
    /** Server indexes created together: the canaries, then the rest (runbook step 8). */
    batches: number[][];
    /** The resource name of each batch, for targets that make a batch one resource (`<pool>-canaries`, `<pool>-servers`). */
    batchNames: string[];
    canaryGateName?: string;
    gateName: string;
    gate: GateSettings;
}

/** What the memberships of the serving generation get. */
export interface MembershipPlan {
    backend: string;
    check: CheckOptions;
    options: ServerOptions;
    attachTimeoutMs: number;
    detachTimeoutMs: number;
    drain: DrainSettings;
    runtimeOnly: boolean;
    /** The new generation's rollout, validated, defaults filled. @default none (full weight at once) */
    rollout?: RolloutSpec;
}

export interface DeploymentPlan {
    /** The record of what each serving or remembered generation was built from (FrozenGenerations). */
    frozenName: string;
    /** What a protected deployment protects (ProtectionGuard). */
    guardName: string;
    /** The OrphanSweep: this stack's servers that no resource claims. */
    orphansName: string;
    snapshotName: string;
    migrationName: string;
    migrationVersion: string;
    /** The serving generation's pool. */
    active: PoolPlan;
    /** The warm standby's pool (kept running, detached), if any. */
    standby?: PoolPlan;
    /** The serving generation's PoolMembership. */
    membershipName: string;
    membership: MembershipPlan;
    smokeName: string;
    smoke: GateSettings & { path: string };
    /** The hold of the other generations' server arrays (step 10) and the new array's release (step 16), on a target with arrays. */
    holdName: string;
    releaseName: string;
    /** The existing fleet to retire after the smoke check, if any. */
    adoption?: { name: string; servers: string[] };
}

/** The health-check settings with their defaults. */
export function resolveHealthCheck(h: HealthCheckSettings = {}): Required<HealthCheckSettings> {
    const d = DEFAULTS.healthCheck;
    return { path: h.path ?? d.path, expectedStatus: h.expectedStatus ?? d.expectedStatus, timeoutMs: h.timeoutMs ?? d.timeoutMs, intervalMs: h.intervalMs ?? d.intervalMs, rise: h.rise ?? d.rise, fall: h.fall ?? d.fall };
}

/** The spec of one generation: the shared spec with that generation's overrides on top. */
export function specForGeneration(pool: Pick<PoolSettings, "spec" | "generations">, generation: string): ServerSpec {
    const shared = pool.spec ?? {};
    const overrides = pool.generations?.[generation] ?? {};
    return { ...shared, ...overrides, inputs: { ...shared.inputs, ...overrides.inputs } };
}

/** The pool of `generation`, for a pool component named `name`. */
export function planPool(name: string, generation: string, pool: PoolSettings, healthCheck: HealthCheckSettings = {}): PoolPlan {
    const hc = resolveHealthCheck(healthCheck);
    const names = poolChildNames(name);
    const canarySize = pool.canarySize ?? DEFAULTS.pool.canarySize;
    const spec = specForGeneration(pool, generation);
    const prefix = pool.namePrefix ?? DEFAULTS.pool.namePrefix;
    const batches = canaryBatches(pool.size, canarySize);
    return {
        name,
        generation,
        namePrefix: prefix,
        port: pool.port ?? DEFAULTS.pool.port,
        healthCheckPath: hc.path,
        servers: Array.from({ length: pool.size }, (_, index) => ({ resourceName: names.server(index), serverName: serverName(prefix, generation, index), index, spec })),
        batches,
        batchNames: batches.map((_, b) => names.batch(b < batches.length - 1)),
        ...(canarySize > 0 ? { canaryGateName: names.canaryGate } : {}),
        gateName: names.gate,
        gate: { expectedStatus: hc.expectedStatus, timeoutMs: hc.timeoutMs, intervalMs: hc.intervalMs, consecutive: hc.rise },
    };
}

/** The settings the memberships of `generation` are attached with. */
export function planMembership(settings: DeploymentSettings, generation: string): MembershipPlan {
    const h = settings.haproxy ?? {};
    const hc = resolveHealthCheck(settings.healthCheck);
    return {
        backend: h.backend ?? DEFAULTS.membership.backend,
        check: { enabled: true, inter: hc.intervalMs, rise: hc.rise, fall: hc.fall },
        options: { ...h.serverOptions, ...h.generations?.[generation]?.serverOptions },
        attachTimeoutMs: h.attachTimeoutMs ?? DEFAULTS.membership.attachTimeoutMs,
        detachTimeoutMs: h.detachTimeoutMs ?? DEFAULTS.membership.detachTimeoutMs,
        drain: { ...DEFAULTS.membership.drain, ...h.drain },
        runtimeOnly: h.runtimeOnly ?? DEFAULTS.membership.runtimeOnly,
        ...(h.rollout ? { rollout: resolveRollout("haproxy.rollout", h.rollout) } : {}),
    };
}

/** The plan of the deployment `name`; `standby` is the generation kept as warm standby, if any. */
export function planDeployment(name: string, settings: DeploymentSettings, standby?: string): DeploymentPlan {
    const names = childNames(name);
    const { generation, migrationVersion } = settings;
    const hc = resolveHealthCheck(settings.healthCheck);
    const adopt = settings.haproxy?.adopt ?? [];
    return {
        frozenName: names.frozen,
        guardName: names.guard,
        orphansName: names.orphans,
        snapshotName: names.snapshot(migrationVersion),
        migrationName: names.migration(migrationVersion),
        migrationVersion,
        active: planPool(names.pool(generation), generation, settings.pool, settings.healthCheck),
        ...(standby && standby !== generation ? { standby: planPool(names.pool(standby), standby, settings.pool, settings.healthCheck) } : {}),
        membershipName: names.membership(generation),
        membership: planMembership(settings, generation),
        smokeName: names.smoke(generation),
        holdName: names.hold(generation),
        releaseName: names.release(generation),
        smoke: { path: hc.path, expectedStatus: hc.expectedStatus, timeoutMs: hc.timeoutMs, intervalMs: hc.intervalMs },
        ...(adopt.length > 0 ? { adoption: { name: names.adopted, servers: adopt } } : {}),
    };
}
