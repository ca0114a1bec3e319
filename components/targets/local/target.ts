/**
 * The `local` target, the embedded default: the whole flip on this machine. Real HAProxy processes
 * (one per configured load balancer), app servers as processes of the demo app in `app/`, the database
 * as a file in a volume folder, snapshots as real copies, the migration as a real command. Everything
 * lives under `$BLUEGREEN_STATE/local/<stack>` (default `<program dir>/.bluegreen/local/<stack>`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { DeploymentConfig } from "../../config";
import type { Target, TargetFactory } from "../../target";
import { DATABASE_FILE } from "../../../app/database";
import { LocalAppServer } from "./appServer";
import { CommandRun } from "./command";
import { LocalLoadBalancer } from "./loadBalancer";
import { LocalSnapshot } from "./snapshot";

/** First frontend port when a load balancer gives none: lb i listens on 18080 + i. */
export const DEFAULT_FRONTEND_PORT = 18080;

/** The folder the local target owns for this stack. */
export function localStateDir(stack: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
    return path.join(env.BLUEGREEN_STATE ? path.resolve(env.BLUEGREEN_STATE) : path.join(cwd, ".bluegreen"), "local", stack);
}

export const localTarget: TargetFactory = (config: DeploymentConfig, deploymentName: string): Target => {
    const stateDir = localStateDir(pulumi.getStack());
    const volumeDir = path.join(stateDir, "volumes", config.database.volume);
    const databasePath = path.join(volumeDir, DATABASE_FILE);
    const hc = config.healthCheck;
    return {
        loadBalancers(parent) {
            return config.haproxy.loadBalancers.map((lb, i) => {
                const resource = new LocalLoadBalancer(
                    `${deploymentName}-lb-${lb.name}`,
                    {
                        name: lb.name,
                        stateDir,
                        frontendPort: lb.frontendPort ?? DEFAULT_FRONTEND_PORT + i,
                        backend: config.haproxy.backend,
                        healthCheck: { path: hc.path, expectedStatus: hc.expectedStatus, intervalMs: hc.intervalMs, rise: hc.rise, fall: hc.fall },
                    },
                    { parent },
                );
                return {
                    name: lb.name,
                    endpoint: resource.endpoint,
                    frontendUrl: resource.frontendUrl,
                    serversFile: resource.serversFile,
                    backendDefaults: resource.backendDefaults,
                };
            });
        },
        snapshot(resourceName, opts) {
            const version = config.database.migration.version;
            return new LocalSnapshot(resourceName, { volumeDir, snapshotsDir: path.join(stateDir, "snapshots"), migrationVersion: version }, opts).snapshotId;
        },
        migration(resourceName, opts) {
            const { command, version } = config.database.migration;
            return new CommandRun(resourceName, { argv: command, env: { DATABASE_PATH: databasePath }, triggers: [version] }, opts);
        },
        server(request, opts) {
            const resource = new LocalAppServer(
                request.resourceName,
                {
                    name: request.serverName,
                    generation: request.generation,
                    stateDir,
                    databasePath,
                    appRef: request.spec.appRef ?? "unversioned",
                    env: request.spec.inputs ?? {},
                },
                opts,
            );
            return {
                name: request.serverName,
                address: resource.address,
                port: resource.port,
                healthUrl: pulumi.interpolate`http://${resource.address}:${resource.port}${hc.path}`,
                healthFile: resource.healthFile.apply((file) => pathToFileURL(file).href),
                resource,
            };
        },
    };
};
