/**
 * `BlueGreenDeployment`: the whole runbook as one component.
 *
 * snapshot -> migration -> pool of this generation -> health gate -> membership on every load balancer
 * -> smoke check through every frontend. Everything generation-scoped carries the generation in its
 * name, so changing `generation` makes the engine create the new generation while the program runs and
 * delete the old one afterwards, dependents first: each old membership drains and detaches before its
 * server is terminated. If any step before the deletes fails, the serving generation stays untouched.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentConfig } from "./config";
import { HealthGate } from "./gate/healthGate";
import { Adoption } from "./haproxy/adoption";
import { Membership } from "./haproxy/membership";
import type { ServerOptions } from "./haproxy/serverOptions";
import type { SshCredentials } from "./haproxy/transport";
import { DatabaseSnapshot } from "./snapshot";
import { Migration } from "./migration";
import { AppServerPool } from "./pool";
import type { LoadBalancerOutputs, ServerOutputs, Target } from "./target";
import type { GenerationHistory } from "./generationHistory";

export interface BlueGreenDeploymentArgs {
    config: DeploymentConfig;
    target: Target;
    /** Credentials for `ssh://` load balancer endpoints (a Pulumi secret). @default none */
    ssh?: pulumi.Input<SshCredentials>;
    /** Generations remembered from the last update (see generationHistory.ts). @default none */
    history?: GenerationHistory;
}

/** Names of the generation-scoped children of a deployment. Exported for tests. */
export function childNames(name: string, generation: string, migrationVersion: string) {
    return {
        snapshot: `${name}-snapshot-${migrationVersion}`,
        migration: `${name}-migration-${migrationVersion}`,
        pool: `${name}-pool-${generation}`,
        poolOf: (gen: string) => `${name}-pool-${gen}`,
        membership: (index: number) => `${name}-member-${generation}-${index}`,
        smoke: `${name}-smoke-${generation}`,
    };
}

export class BlueGreenDeployment extends pulumi.ComponentResource {
    public readonly activeGeneration: pulumi.Output<string>;
    public readonly servers: pulumi.Output<{ name: string; address: string; port: number }[]>;
    public readonly loadBalancers: pulumi.Output<{ name: string; endpoint: string; frontendUrl: string }[]>;
    public readonly snapshotId: pulumi.Output<string>;
    public readonly migrationVersion: pulumi.Output<string>;
    /** What a rollback flips back to, and the generation kept as warm standby (`pool.standby`), if any. */
    public readonly history: GenerationHistory;

    constructor(name: string, args: BlueGreenDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bluegreen:index:BlueGreenDeployment", name, {}, opts);
        const { config, target } = args;
        const { generation } = config;
        const version = config.database.migration.version;
        const names = childNames(name, generation, version);

        const lbs = target.loadBalancers(this);
        const snapshot = new DatabaseSnapshot(names.snapshot, { target, migrationVersion: version }, { parent: this });
        const migration = new Migration(names.migration, { target, snapshot }, { parent: this, dependsOn: [snapshot] });
        const pool = new AppServerPool(names.pool, { target, config, generation, after: [migration.run] }, { parent: this });
        // Warm standby: the previous generation's pool stays registered (so it keeps running) without
        // memberships (so it is drained and detached). Flipping back re-attaches it without provisioning.
        const standby = args.history?.standby;
        if (standby) {
            new AppServerPool(names.poolOf(standby), { target, config, generation: standby, after: [migration.run] }, { parent: this });
        }
        const memberships = pool.servers.map(
            (server, i) =>
                new Membership(names.membership(i), membershipArgs(config, lbs, server, args.ssh), {
                    parent: this,
                    dependsOn: [pool.gate],
                }),
        );
        const smoke = new HealthGate(
            names.smoke,
            {
                targets: lbs.map((lb) => ({ name: lb.name, url: pulumi.interpolate`${lb.frontendUrl.apply((u) => u.replace(/\/$/, ""))}${config.healthCheck.path}` })),
                expectedStatus: config.healthCheck.expectedStatus,
                timeoutMs: config.healthCheck.timeoutSeconds * 1000,
                intervalMs: config.healthCheck.intervalMs,
            },
            { parent: this, dependsOn: memberships },
        );
        // The operator's existing fleet leaves once the new generation serves, as an old generation would.
        if (config.haproxy.adopt.length > 0) {
            new Adoption(
                `${name}-adopted`,
                { loadBalancers: loadBalancerRefs(lbs), backend: config.haproxy.backend, servers: config.haproxy.adopt, drain: drainArgs(config), ...(args.ssh ? { ssh: args.ssh } : {}) },
                { parent: this, dependsOn: [smoke] },
            );
        }

        this.activeGeneration = pulumi.output(generation);
        this.servers = pulumi.all(pool.servers.map((s) => pulumi.all([s.address, s.port]).apply(([address, port]) => ({ name: s.name, address, port }))));
        this.loadBalancers = pulumi.all(
            lbs.map((lb) => pulumi.all([lb.endpoint, lb.frontendUrl]).apply(([endpoint, frontendUrl]) => ({ name: lb.name, endpoint, frontendUrl }))),
        );
        this.snapshotId = snapshot.snapshotId;
        this.migrationVersion = pulumi.output(version);
        this.history = args.history ?? {};
        this.registerOutputs({
            previousGeneration: this.history.previous,
            standbyGeneration: this.history.standby,
            activeGeneration: this.activeGeneration,
            servers: this.servers,
            loadBalancers: this.loadBalancers,
            snapshotId: this.snapshotId,
            migrationVersion: this.migrationVersion,
        });
    }
}

/** The load balancers as membership inputs. */
function loadBalancerRefs(lbs: LoadBalancerOutputs[]) {
    return lbs.map((lb) => ({
        name: lb.name,
        endpoint: lb.endpoint,
        ...(lb.serversFile ? { serversFile: lb.serversFile } : {}),
        ...(lb.backendDefaults ? { backendDefaults: lb.backendDefaults } : {}),
        ...(lb.hostKeySha256 ? { hostKeySha256: lb.hostKeySha256 } : {}),
    }));
}

/** The configured drain in the memberships' units (the health file is per server). */
function drainArgs(config: DeploymentConfig) {
    const { drain } = config.haproxy;
    return {
        method: drain.method,
        timeoutMs: drain.timeoutSeconds * 1000,
        onTimeout: drain.onTimeout,
        pollIntervalMs: drain.pollIntervalMs,
        quietPeriodMs: drain.quietPeriodSeconds * 1000,
        minimumMs: drain.minimumSeconds * 1000,
    };
}

/** The server options of `generation`: the deployment's, with the generation's own on top. */
export function serverOptionsFor(config: DeploymentConfig, generation: string): ServerOptions {
    return { ...config.haproxy.serverOptions, ...config.haproxy.generations[generation]?.serverOptions };
}

/** The membership of one server on every load balancer, with the configured check, options and drain. */
function membershipArgs(config: DeploymentConfig, lbs: LoadBalancerOutputs[], server: ServerOutputs, ssh?: pulumi.Input<SshCredentials>) {
    return {
        loadBalancers: loadBalancerRefs(lbs),
        backend: config.haproxy.backend,
        server: server.name,
        address: server.address,
        port: server.port,
        check: { enabled: true, inter: config.healthCheck.intervalMs, rise: config.healthCheck.rise, fall: config.healthCheck.fall },
        options: serverOptionsFor(config, config.generation),
        attachTimeoutMs: config.haproxy.attachTimeoutSeconds * 1000,
        drain: { ...drainArgs(config), ...(config.haproxy.drain.method === "healthcheck" ? { healthFile: server.healthFile } : {}) },
        ...(config.haproxy.runtimeOnly ? { runtimeOnly: true } : {}),
        ...(ssh ? { ssh } : {}),
    };
}
