/**
 * The Pulumi program: one blue/green deployment of the app servers behind HAProxy, for this stack.
 * Change `generation` in the stack config and run `pulumi up` to flip to a new generation.
 */
import { BlueGreenDeployment } from "./components/deployment";
import { readStackConfig } from "./components/stackConfig";
import { targetFor } from "./components/targets";

const { config, ssh } = readStackConfig();
const deployment = new BlueGreenDeployment("site", { config, target: targetFor(config, "site", ssh), ssh });

export const activeGeneration = deployment.activeGeneration;
export const servers = deployment.servers;
export const loadBalancers = deployment.loadBalancers;
export const snapshotId = deployment.snapshotId;
export const migrationVersion = deployment.migrationVersion;
export const backend = config.haproxy.backend;
