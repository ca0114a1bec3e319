/**
 * The Pulumi program: one blue/green deployment of the app servers behind HAProxy, for this stack.
 * Change `generation` in the stack config and run `pulumi up` to flip to a new generation.
 */
import { BlueGreenDeployment } from "./src/deployment";
import { nextHistory, readLastOutputs } from "./src/generationHistory";
import { readStackConfig } from "./program/stackConfig";
import { deploymentSettings, targetFor } from "./program/targets";

export = async () => {
    const { config, ssh } = readStackConfig();
    const history = nextHistory(config.generation, await readLastOutputs(), config.pool.standby);
    const deployment = new BlueGreenDeployment("site", { ...deploymentSettings(config), target: targetFor(config, "site", ssh), ssh, history }, { protect: config.protect });
    return {
        activeGeneration: deployment.activeGeneration,
        // Absent rather than undefined, so that the stack shows no empty outputs.
        ...(history.previous ? { previousGeneration: history.previous } : {}),
        ...(history.standby ? { standbyGeneration: history.standby } : {}),
        servers: deployment.servers,
        loadBalancers: deployment.loadBalancers,
        snapshotId: deployment.snapshotId,
        migrationVersion: deployment.migrationVersion,
        backend: config.haproxy.backend,
    };
};
