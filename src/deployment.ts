/**
 * `BlueGreenDeployment`: the whole runbook as one component.
 *
 * snapshot -> migration -> pool of this generation -> health gate -> membership on every load balancer
 * -> smoke check through every frontend -> the old generation (and an adopted fleet, and servers of this
 * stack that no resource claims) drained and detached -> its servers terminated. With server arrays the
 * other generations' arrays are held still before the membership (step 10) and the new one is released
 * after the smoke check (step 16). What each child is and does comes from the plan (plan.ts).
 * Everything generation-scoped carries the generation in its name, so changing `generation` makes the
 * engine create the new generation while the program runs and delete the old one afterwards, dependents
 * first: the old generation's membership drains and detaches all its servers at once before they are
 * terminated. If any step before the deletes fails, the serving generation stays untouched.
 */
import * as pulumi from "@pulumi/pulumi";
import { HealthGate } from "./gate/healthGate";
import { Adoption } from "./haproxy/adoption";
import { ownerInThisStack } from "./haproxy/membership";
import { OrphanSweep } from "./haproxy/orphanSweep";
import { PoolMembership } from "./haproxy/poolMembership";
import type { SshCredentials } from "./haproxy/runtime/transport";
import { DatabaseSnapshot } from "./database/snapshot";
import { Migration } from "./database/migration";
import { childNames, TYPES } from "./names";
import { planDeployment, resolveHealthCheck, type DeploymentSettings, type MembershipPlan, type PoolPlan } from "./plan";
import { AppServerPool } from "./pool/pool";
import type { LoadBalancerOutputs, ServerOutputs, Target } from "./targets/target";
import type { GenerationHistory } from "./generationHistory";
import { generationBuild } from "./generations/build";
import { FrozenGenerations } from "./generations/frozenGenerations";
import { ProtectionGuard } from "./protectionGuard";

export interface BlueGreenDeploymentArgs extends DeploymentSettings {
    /** Where servers, load balancers, the snapshot and the migration come to exist (localTarget, awsTarget). */
    target: Target;
    /** Credentials for `ssh://` load balancer endpoints (a Pulumi secret). @default none */
    ssh?: pulumi.Input<SshCredentials>;
    /**
     * Generations remembered from the last update (generationHistory.ts): `standby` keeps that pool
     * running, and with it the deployment sweeps this stack's unclaimed servers (OrphanSweep). @default none
     */
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
        // `protect` is not inherited by the children: the old generation's resources are never registered
        // again, so a protect flag they inherited could never be lifted and would refuse their deletes after
        // the new generation attached (explicit `protect: false` on a child does not override a protected
        // parent in this engine). A protected deployment protects a guard instead (below).
        const { protect, ...rest } = opts ?? {};
        super(TYPES.deployment, name, {}, rest);
        const { target } = args;
        const plan = planDeployment(name, args, args.history?.standby);
        const healthCheck = resolveHealthCheck(args.healthCheck);

        target.database?.(this);
        // The deployment's own server options decide the backend's persistence, not one generation's.
        const lbs = target.loadBalancers(this, { backend: plan.membership.backend, healthCheck, cookie: args.haproxy?.serverOptions?.cookie ?? false });
        const scoped = { parent: this };
        // Runbook steps 5-6: what the serving and remembered generations were built from is recorded
        // first, and a config that would build one of them differently stops the update here.
        const registered = [args.generation, ...(plan.standby ? [plan.standby.generation] : [])];
        const frozen = new FrozenGenerations(
            plan.frozenName,
            {
                builds: Object.fromEntries(registered.map((g) => [g, generationBuild(args, g)])),
                pinned: args.history?.remembered ?? [args.generation],
            },
            { parent: this, ...(protect ? { protect: true } : {}) },
        );
        const snapshot = new DatabaseSnapshot(plan.snapshotName, { target, migrationVersion: plan.migrationVersion }, { ...scoped, dependsOn: [frozen] });
        const migration = new Migration(plan.migrationName, { target, migrationVersion: plan.migrationVersion, snapshot }, { ...scoped, dependsOn: [snapshot] });
        const poolOf = (p: PoolPlan) =>
            new AppServerPool(p.name, { ...args.pool, target, generation: p.generation, healthCheck: args.healthCheck, after: [migration.run] }, scoped);
        const pool = poolOf(plan.active);
        // Warm standby: the previous generation's pool stays registered (so it keeps running) without
        // memberships (so it is drained and detached). Flipping back re-attaches it without provisioning.
        if (plan.standby) poolOf(plan.standby);
        // A rollout shifts traffic from this deployment's other generations only (its memberships' owners).
        const membershipScope = ownerInThisStack(childNames(name).membership("")).resource;
        const rollout = plan.membership.rollout ? { rollout: { ...plan.membership.rollout, replacesOwnersStartingWith: membershipScope } } : {};
        // Runbook step 10 for server arrays: the other generations' arrays are held still (no launches,
        // scale-ins or replacements) once the new one passed its gate, before anything of it attaches.
        const keep = [args.generation, ...(plan.standby ? [plan.standby.generation] : [])];
        const hold = pool.array && target.arrays ? [target.arrays.hold(plan.holdName, keep, { ...scoped, dependsOn: [pool.gate] })] : [];
        const servers = pool.array
            ? pool.array.servers.apply((found) => found.map((server) => poolServer(plan.membership, server)))
            : pool.servers.map((server) => poolServer(plan.membership, server));
        const membership = new PoolMembership(
            plan.membershipName,
            { ...sharedMembershipArgs(plan.membership, lbs, args.ssh), servers, ...rollout },
            { ...scoped, dependsOn: [pool.gate, ...hold] },
        );
        const smoke = new HealthGate(
            plan.smokeName,
            {
                targets: lbs.map((lb) => ({ name: lb.name, url: pulumi.interpolate`${lb.frontendUrl.apply((u) => u.replace(/\/$/, ""))}${plan.smoke.path}` })),
                expectedStatus: plan.smoke.expectedStatus,
                timeoutMs: plan.smoke.timeoutMs,
                intervalMs: plan.smoke.intervalMs,
            },
            { ...scoped, dependsOn: [membership] },
        );
        // The operator's existing fleet leaves once the new generation serves, as an old generation would.
        let adoption: Adoption | undefined;
        if (plan.adoption) {
            const { backend, drain } = plan.membership;
            adoption = new Adoption(
                plan.adoption.name,
                { loadBalancers: loadBalancerRefs(lbs), backend, servers: plan.adoption.servers, drain, ...(args.ssh ? { ssh: args.ssh } : {}) },
                { ...scoped, dependsOn: [smoke] },
            );
        }
        // Servers this stack owns that no resource claims (a killed `up`'s) leave once this generation
        // serves; the remembered generations' memberships are the engine's to delete. Without a history
        // the program cannot say which generations it remembers, so nothing is swept.
        let sweep: OrphanSweep | undefined;
        if (!plan.membership.runtimeOnly && args.history) {
            const { backend, drain } = plan.membership;
            // Claimed by name: this generation's and the remembered ones' memberships. A membership that
            // keeps an owner of another name (its deployment renamed with an alias) is out of the scope.
            const claimed = [...new Set([args.generation, ...(args.history?.remembered ?? [])])].map((g) => ownerInThisStack(childNames(name).membership(g)).resource).sort();
            sweep = new OrphanSweep(
                plan.orphansName,
                {
                    stack: ownerInThisStack(name).stack,
                    scope: membershipScope,
                    claimed,
                    loadBalancers: loadBalancerRefs(lbs),
                    backend,
                    drain,
                    ...(args.ssh ? { ssh: args.ssh } : {}),
                },
                { ...scoped, dependsOn: [smoke] },
            );
        }
        // Runbook step 16 for server arrays: the new array scales again once it serves everywhere.
        const release = pool.array && target.arrays ? [target.arrays.release(plan.releaseName, pool.array, { ...scoped, dependsOn: [smoke] })] : [];
        if (protect) new ProtectionGuard(plan.guardName, { parent: this, dependsOn: [smoke, ...release, ...(adoption ? [adoption] : []), ...(sweep ? [sweep] : [])] });

        // Known only once the generation passed the smoke check through every load balancer: a flip that
        // fails before that records no stack outputs, so the stack's history never names a generation that
        // did not serve.
        this.activeGeneration = smoke.id.apply(() => args.generation);
        this.servers = pool.array
            ? pool.array.servers.apply((found) => found.map(({ name, address, port }) => ({ name, address, port })))
            : pulumi.all(pool.servers.map((s) => pulumi.all([s.address, s.port]).apply(([address, port]) => ({ name: s.name, address, port }))));
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

/** What every server's membership on every load balancer shares, as the plan says. */
function sharedMembershipArgs(plan: MembershipPlan, lbs: LoadBalancerOutputs[], ssh?: pulumi.Input<SshCredentials>) {
    return {
        loadBalancers: loadBalancerRefs(lbs),
        backend: plan.backend,
        check: plan.check,
        options: plan.options,
        attachTimeoutMs: plan.attachTimeoutMs,
        detachTimeoutMs: plan.detachTimeoutMs,
        drain: plan.drain,
        ...(plan.runtimeOnly ? { runtimeOnly: true } : {}),
        ...(ssh ? { ssh } : {}),
    };
}

/** One server as a PoolMembership lists it; its health-check file only for the `healthcheck` drain method. */
function poolServer(plan: MembershipPlan, server: Pick<ServerOutputs, "name" | "healthFile"> & { address: pulumi.Input<string>; port: pulumi.Input<number> }) {
    return {
        server: server.name,
        address: server.address,
        port: server.port,
        ...(plan.drain.method === "healthcheck" && server.healthFile ? { healthFile: server.healthFile } : {}),
    };
}
