/**
 * `AppServerPool` (runbook steps 3-9): the servers of one generation, built from the shared spec plus
 * the generation's overrides, and the health gate they must pass. With a canary size N, the first N
 * servers must pass a gate of their own before the rest are created (step 8, plan.ts `canaryBatches`).
 * A target with server arrays (`Target.arrays`) makes the generation one array instead, whose servers
 * are found rather than listed; it has no canaries.
 */
import * as pulumi from "@pulumi/pulumi";
import { HealthGate } from "../gate/healthGate";
import { TYPES } from "../names";
import { planPool, type HealthCheckSettings, type PoolSettings } from "../plan";
import type { ServerArray, ServerOutputs, Target } from "../targets/target";

export interface AppServerPoolArgs extends PoolSettings {
    /** Where the servers run (localTarget, awsTarget). */
    target: Target;
    /** The generation these servers belong to, e.g. `g7`. */
    generation: string;
    /** The servers' health check, which the pool's gate waits for. @default see HealthCheckSettings */
    healthCheck?: HealthCheckSettings;
    /** What the servers wait for (the migration). @default none */
    after?: pulumi.Resource[];
}

export class AppServerPool extends pulumi.ComponentResource {
    /** The servers, one entry each; none for an array. */
    public readonly servers: ServerOutputs[];
    /** The generation's server array, on a target with arrays. @default none */
    public readonly array?: ServerArray;
    /** Passed once every server answers its health check. */
    public readonly gate: HealthGate;

    constructor(name: string, args: AppServerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPES.pool, name, {}, opts);
        const { target, generation } = args;
        const plan = planPool(name, generation, args, args.healthCheck);
        const gateFor = (gateName: string, servers: ServerOutputs[]) =>
            new HealthGate(
                gateName,
                { targets: servers.map((s) => ({ name: s.name, url: s.healthUrl })), ...plan.gate },
                { parent: this, dependsOn: servers.map((s) => s.resource) },
            );

        this.servers = [];
        if (target.arrays) {
            if (plan.canaryGateName) throw new Error(`${name}: canarySize must be 0 with server arrays: an Auto Scaling group starts its servers together`);
            const { port, healthCheckPath, namePrefix } = plan;
            this.array = target.arrays.servers(
                { poolName: name, generation, spec: plan.servers[0].spec, size: plan.servers.length, namePrefix, port, healthCheckPath },
                { parent: this, dependsOn: args.after ?? [] },
            );
            const targets = this.array.servers.apply((found) => found.map((s) => ({ name: s.name, url: s.healthUrl })));
            this.gate = new HealthGate(plan.gateName, { targets, ...plan.gate }, { parent: this, dependsOn: [this.array.resource] });
            this.registerOutputs({ servers: this.array.servers.apply((found) => found.map((s) => ({ name: s.name, address: s.address }))) });
            return;
        }
        let waitFor: pulumi.Resource[] = args.after ?? [];
        plan.batches.forEach((batch, b) => {
            const servers = batch.map((index) => {
                const server = plan.servers[index];
                return { resourceName: server.resourceName, serverName: server.serverName, generation, index, spec: server.spec, port: plan.port, healthCheckPath: plan.healthCheckPath };
            });
            const created = target.servers({ resourceName: plan.batchNames[b], servers }, { parent: this, dependsOn: waitFor });
            this.servers.push(...created);
            if (b < plan.batches.length - 1 && plan.canaryGateName) waitFor = [gateFor(plan.canaryGateName, created)];
        });
        this.gate = gateFor(plan.gateName, this.servers);
        this.registerOutputs({ servers: this.servers.map((s) => ({ name: s.name, address: s.address })) });
    }
}
