/**
 * `AppServerPool` (runbook steps 3-9): the servers of one generation, built from the shared spec plus
 * the generation's overrides, and the health gate they must pass. With a canary size N, the first N
 * servers must pass their own gate before the rest are created (step 8).
 */
import * as pulumi from "@pulumi/pulumi";
import type { DeploymentConfig } from "./config";
import { specForGeneration } from "./config";
import { HealthGate } from "./gate/healthGate";
import type { ServerOutputs, Target } from "./target";

export interface AppServerPoolArgs {
    target: Target;
    config: DeploymentConfig;
    /** The generation these servers belong to. */
    generation: string;
    /** What the servers wait for (the migration). */
    after: pulumi.Resource[];
}

/** HAProxy server name of server `index` of a generation. Exported for tests. */
export function serverName(namePrefix: string, generation: string, index: number): string {
    return `${namePrefix}-${generation}-${index}`;
}

/** Which servers are canaries (created and gated first) and which follow. Exported for tests. */
export function canaryBatches(size: number, canarySize: number): number[][] {
    const all = Array.from({ length: size }, (_, i) => i);
    return canarySize > 0 ? [all.slice(0, canarySize), all.slice(canarySize)] : [all];
}

export class AppServerPool extends pulumi.ComponentResource {
    public readonly servers: ServerOutputs[];
    /** Passed once every server answers its health check. */
    public readonly gate: HealthGate;

    constructor(name: string, args: AppServerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bluegreen:pool:AppServerPool", name, {}, opts);
        const { config, generation, target } = args;
        const spec = specForGeneration(config, generation);
        const gateFor = (gateName: string, servers: ServerOutputs[]) =>
            new HealthGate(
                gateName,
                {
                    targets: servers.map((s) => ({ name: s.name, url: s.healthUrl })),
                    expectedStatus: config.healthCheck.expectedStatus,
                    timeoutMs: config.healthCheck.timeoutSeconds * 1000,
                    intervalMs: config.healthCheck.intervalMs,
                    consecutive: config.healthCheck.rise,
                },
                { parent: this, dependsOn: servers.map((s) => s.resource) },
            );

        this.servers = [];
        let waitFor: pulumi.Resource[] = args.after;
        const batches = canaryBatches(config.pool.size, config.canarySize);
        batches.forEach((batch, b) => {
            const created = batch.map((index) =>
                target.server(
                    { resourceName: `${name}-${index}`, serverName: serverName(config.pool.namePrefix, generation, index), generation, index, spec },
                    { parent: this, dependsOn: waitFor },
                ),
            );
            this.servers.push(...created);
            if (b < batches.length - 1) waitFor = [gateFor(`${name}-canary-gate`, created)];
        });
        this.gate = gateFor(`${name}-gate`, this.servers);
        this.registerOutputs({ servers: this.servers.map((s) => ({ name: s.name, address: s.address })) });
    }
}
