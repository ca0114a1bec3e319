/**
 * The `local` target, the embedded default: the whole flip on this machine. Real HAProxy processes
 * (one per configured load balancer), app servers as processes of the demo app in `app/`, the database
 * as a file in a volume folder, snapshots as real copies, the migration as a real command. Everything
 * lives under `$BLUEGREEN_STATE/local/<stack>` (default `<program dir>/.bluegreen/local/<stack>`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Target } from "../target";
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

/** What the local target runs. */
export interface LocalTargetArgs {
    /** Prefix of the resources it registers (the deployment's name), e.g. `site`. */
    name: string;
    /** The load balancers to run, each a real HAProxy; lb `i` listens on `frontendPort` @default 18080 + i. */
    loadBalancers: { name: string; frontendPort?: number }[];
    /** The database: a folder name under `<stateDir>/volumes`, and the migration's command (argv, no shell). */
    database: { volume: string; migrationCommand: string[] };
    /** Folder of everything it runs. @default `localStateDir(<stack>)` */
    stateDir?: string;
}

/** The `local` target: everything on this machine (see the file's comment). */
export function localTarget(args: LocalTargetArgs): Target {
    const stateDir = args.stateDir ?? localStateDir(pulumi.getStack());
    const volumeDir = path.join(stateDir, "volumes", args.database.volume);
    const databasePath = path.join(volumeDir, DATABASE_FILE);
    return {
        loadBalancers(parent, { backend, healthCheck: hc }) {
            return args.loadBalancers.map((lb, i) => {
                const resource = new LocalLoadBalancer(
                    `${args.name}-lb-${lb.name}`,
                    {
                        name: lb.name,
                        stateDir,
                        frontendPort: lb.frontendPort ?? DEFAULT_FRONTEND_PORT + i,
                        backend,
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
        snapshot(resourceName, migrationVersion, opts) {
            return new LocalSnapshot(resourceName, { volumeDir, snapshotsDir: path.join(stateDir, "snapshots"), migrationVersion }, opts).snapshotId;
        },
        migration(resourceName, migrationVersion, opts) {
            return new CommandRun(resourceName, { argv: args.database.migrationCommand, env: { DATABASE_PATH: databasePath }, triggers: [migrationVersion] }, opts);
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
                healthUrl: pulumi.interpolate`http://${resource.address}:${resource.port}${request.healthCheckPath}`,
                healthFile: resource.healthFile.apply((file) => pathToFileURL(file).href),
                resource,
            };
        },
    };
}
