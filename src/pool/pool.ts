/**
 * `AppServerPool` (runbook steps 3-9): the servers of one generation, built from the shared spec plus
 * the generation's overrides, and the health gate they must pass. With a canary size N, the first N
 * servers must pass a gate of their own before the rest are created (step 8, plan.ts `canaryBatches`).
 */
import * as pulumi from "@pulumi/pulumi";
import { HealthGate } from "../gate/healthGate";
import { TYPES } from "../names";
import { planPool, type HealthCheckSettings, type PoolSettings } from "../plan";
import type { ServerOutputs, Target } from "../targets/target";

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
    public readonly servers: ServerOutputs[];
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
