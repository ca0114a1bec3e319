/**
 * The `local` target, the embedded default: the whole flip on this machine. Real HAProxy processes
 * (one per configured load balancer), app servers as processes of the demo app in `app/`, a real
 * PostgreSQL (the project's own cluster, src/targets/local/database.ts) holding the app's data,
 * snapshots as `pg_dump` archives, the migration as the SQL files of `app/migrations` applied with
 * `psql`. Everything lives under `$BLUEGREEN_STATE/local/<stack>` (default
 * `<program dir>/.bluegreen/local/<stack>`).
 */
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Target } from "../target";
import { APP_SOURCE_DIR } from "./appRelease";
import { LocalAppServers } from "./appServers";
import type { RunningAppServer } from "./appServerProcess";
import { LocalDatabase } from "./database";
import { LocalLoadBalancer } from "./loadBalancer";
import { LocalMigration } from "./migration";
import { LocalSnapshot } from "./snapshot";

/** First frontend port when a load balancer gives none: lb i listens on 18080 + i. */
export const DEFAULT_FRONTEND_PORT = 18080;

/** The demo app's SQL migrations: `app/migrations` of the sources, or of the installed package. */
export const DEMO_MIGRATIONS_DIR =
    [path.join(APP_SOURCE_DIR, "migrations"), path.join(APP_SOURCE_DIR, "..", "..", "app", "migrations")].find((dir) => existsSync(dir)) ??
    path.join(APP_SOURCE_DIR, "migrations");

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
    /** The PostgreSQL cluster. @default {} */
    database?: {
        /** Its name, part of its resource name and folder. @default "db" */
        name?: string;
        /** Its port on 127.0.0.1. @default a free port */
        port?: number;
        /** Absolute folder of the SQL migrations `<version>_<name>.sql`. @default the demo app's `app/migrations` */
        migrationsDir?: string;
    };
    /** Folder of everything it runs. @default `localStateDir(<stack>)` */
    stateDir?: string;
}

/** The `local` target: everything on this machine (see the file's comment). */
export function localTarget(args: LocalTargetArgs): Target {
    const stateDir = args.stateDir ?? localStateDir(pulumi.getStack());
    const databaseName = args.database?.name ?? "db";
    const migrationsDir = args.database?.migrationsDir ?? DEMO_MIGRATIONS_DIR;
    // One cluster per target, registered under the deployment (`database(parent)`), never under a
    // generation- or version-scoped component: a new migration version must not replace the database.
    let database: LocalDatabase | undefined;
    const databaseOf = (parent?: pulumi.Resource) =>
        (database ??= new LocalDatabase(`${args.name}-${databaseName}`, { name: databaseName, stateDir, ...(args.database?.port ? { port: args.database.port } : {}) }, parent ? { parent } : {}));
    const connection = () => databaseOf().connection();
    return {
        database(parent) {
            return databaseOf(parent);
        },
        loadBalancers(parent, { backend, healthCheck: hc, cookie }) {
            return args.loadBalancers.map((lb, i) => {
                const resource = new LocalLoadBalancer(
                    `${args.name}-lb-${lb.name}`,
                    {
                        name: lb.name,
                        stateDir,
                        frontendPort: lb.frontendPort ?? DEFAULT_FRONTEND_PORT + i,
                        backend,
                        healthCheck: { path: hc.path, expectedStatus: hc.expectedStatus, intervalMs: hc.intervalMs, rise: hc.rise, fall: hc.fall },
                        // Only when asked: a load balancer created before the setting existed stays as it is.
                        ...(cookie ? { cookie } : {}),
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
            return new LocalSnapshot(resourceName, { connection: connection(), snapshotsDir: path.join(stateDir, "snapshots"), migrationVersion }, opts).snapshotId;
        },
        migration(resourceName, migrationVersion, opts) {
            return new LocalMigration(resourceName, { migrationsDir, migrationVersion, connection: connection() }, opts);
        },
        servers(batch, opts) {
            const [first] = batch.servers;
            const resource = new LocalAppServers(
                batch.resourceName,
                { names: batch.servers.map((r) => r.serverName), generation: first.generation, stateDir, database: connection(), appRef: first.spec.appRef ?? "unversioned", env: first.spec.inputs ?? {} },
                opts,
            );
            return batch.servers.map((request) => {
                const server = resource.servers.apply((list) => serverNamed(list, request.serverName));
                return {
                    name: request.serverName,
                    address: server.address,
                    port: server.port,
                    healthUrl: pulumi.interpolate`http://${server.address}:${server.port}${request.healthCheckPath}`,
                    healthFile: server.healthFile.apply((file) => pathToFileURL(file).href),
                    resource,
                };
            });
        },
    };
}

/** The server `name` of a LocalAppServers' outputs. */
function serverNamed(servers: RunningAppServer[], name: string): RunningAppServer {
    const server = servers.find((s) => s.name === name);
    if (!server) throw new Error(`app server ${name} is missing from its resource's outputs`);
    return server;
}
