/**
 * `BlueGreenDeployment`: the whole runbook as one component.
 *
 * snapshot -> migration -> pool of this generation -> health gate -> membership on every load balancer
 * -> smoke check through every frontend -> the old generation (and an adopted fleet) drained and
 * detached -> its servers terminated. What each child is and does comes from the plan (plan.ts).
 * Everything generation-scoped carries the generation in its name, so changing `generation` makes the
 * engine create the new generation while the program runs and delete the old one afterwards, dependents
 * first: each old membership drains and detaches before its server is terminated. If any step before the
 * deletes fails, the serving generation stays untouched.
 */
import * as pulumi from "@pulumi/pulumi";
import { HealthGate } from "./gate/healthGate";
import { Adoption } from "./haproxy/adoption";
import { Membership } from "./haproxy/membership";
import type { SshCredentials } from "./haproxy/runtime/transport";
import { DatabaseSnapshot } from "./database/snapshot";
import { Migration } from "./database/migration";
import { TYPES } from "./names";
import { parallelismWarning, planDeployment, resolveHealthCheck, type DeploymentSettings, type MembershipPlan, type PoolPlan } from "./plan";
import { AppServerPool } from "./pool/pool";
import type { LoadBalancerOutputs, ServerOutputs, Target } from "./targets/target";
import type { GenerationHistory } from "./generationHistory";

export interface BlueGreenDeploymentArgs extends DeploymentSettings {
    /** Where servers, load balancers, the snapshot and the migration come to exist (localTarget, awsTarget). */
    target: Target;
    /** Credentials for `ssh://` load balancer endpoints (a Pulumi secret). @default none */
    ssh?: pulumi.Input<SshCredentials>;
    /** Generations remembered from the last update (generationHistory.ts): `standby` keeps that pool running. @default none */
    history?: GenerationHistory;
}

export class BlueGreenDeployment extends pulumi.ComponentResource {
    public readonly activeGeneration: pulumi.Output<string>;
    public readonly servers: pulumi.Output<{ name: string; address: string; port: number }[]>;
    public readonly loadBalancers: pulumi.Output<{ name: string; endpoint: string; frontendUrl: string }[]>;
    public readonly snapshotId: pulumi.Output<string>;
    public readonly migrationVersion: pulumi.Output<string>;
    /** What a rollback flips back to, and the generation kept as warm standby, if any. */
    public readonly history: GenerationHistory;

    constructor(name: string, args: BlueGreenDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPES.deployment, name, {}, opts);
        const { target } = args;
        const plan = planDeployment(name, args, args.history?.standby);
        const healthCheck = resolveHealthCheck(args.healthCheck);
        const waves = parallelismWarning(plan.active.servers.length, engineParallelism());
        if (waves) void pulumi.log.warn(waves, this);

        target.database?.(this);
        const lbs = target.loadBalancers(this, { backend: plan.membership.backend, healthCheck });
        const snapshot = new DatabaseSnapshot(plan.snapshotName, { target, migrationVersion: plan.migrationVersion }, { parent: this });
        const migration = new Migration(plan.migrationName, { target, migrationVersion: plan.migrationVersion, snapshot }, { parent: this, dependsOn: [snapshot] });
        const poolOf = (p: PoolPlan) =>
            new AppServerPool(p.name, { ...args.pool, target, generation: p.generation, healthCheck: args.healthCheck, after: [migration.run] }, { parent: this });
        const pool = poolOf(plan.active);
        // Warm standby: the previous generation's pool stays registered (so it keeps running) without
        // memberships (so it is drained and detached). Flipping back re-attaches it without provisioning.
        if (plan.standby) poolOf(plan.standby);
        const memberships = pool.servers.map(
            (server, i) => new Membership(plan.membershipName(i), membershipArgs(plan.membership, lbs, server, args.ssh), { parent: this, dependsOn: [pool.gate] }),
        );
        const smoke = new HealthGate(
            plan.smokeName,
            {
                targets: lbs.map((lb) => ({ name: lb.name, url: pulumi.interpolate`${lb.frontendUrl.apply((u) => u.replace(/\/$/, ""))}${plan.smoke.path}` })),
                expectedStatus: plan.smoke.expectedStatus,
                timeoutMs: plan.smoke.timeoutMs,
                intervalMs: plan.smoke.intervalMs,
            },
            { parent: this, dependsOn: memberships },
        );
        // The operator's existing fleet leaves once the new generation serves, as an old generation would.
        if (plan.adoption) {
            const { backend, drain } = plan.membership;
            new Adoption(
                plan.adoption.name,
                { loadBalancers: loadBalancerRefs(lbs), backend, servers: plan.adoption.servers, drain, ...(args.ssh ? { ssh: args.ssh } : {}) },
                { parent: this, dependsOn: [smoke] },
            );
        }

        this.activeGeneration = pulumi.output(args.generation);
        this.servers = pulumi.all(pool.servers.map((s) => pulumi.all([s.address, s.port]).apply(([address, port]) => ({ name: s.name, address, port }))));
        this.loadBalancers = pulumi.all(
            lbs.map((lb) => pulumi.all([lb.endpoint, lb.frontendUrl]).apply(([endpoint, frontendUrl]) => ({ name: lb.name, endpoint, frontendUrl }))),
        );
        this.snapshotId = snapshot.snapshotId;
        this.migrationVersion = pulumi.output(plan.migrationVersion);
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

/** The membership of one server on every load balancer, as the plan says. */
function membershipArgs(plan: MembershipPlan, lbs: LoadBalancerOutputs[], server: ServerOutputs, ssh?: pulumi.Input<SshCredentials>) {
    return {
        loadBalancers: loadBalancerRefs(lbs),
        backend: plan.backend,
        server: server.name,
        address: server.address,
        port: server.port,
        check: plan.check,
        options: plan.options,
        attachTimeoutMs: plan.attachTimeoutMs,
        drain: { ...plan.drain, ...(plan.drain.method === "healthcheck" ? { healthFile: server.healthFile } : {}) },
        ...(plan.runtimeOnly ? { runtimeOnly: true } : {}),
        ...(ssh ? { ssh } : {}),
    };
}

/** How many steps the engine runs at once, as it told the program (`PULUMI_NODEJS_PARALLEL`); undefined if it did not. */
function engineParallelism(): number | undefined {
    const value = Number(process.env.PULUMI_NODEJS_PARALLEL);
    return Number.isInteger(value) && value > 0 ? value : undefined;
}
