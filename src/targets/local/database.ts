/**
 * `LocalDatabase`: the local target's PostgreSQL, a cluster of its own (src/targets/local/postgres.ts)
 * with one database and one role, on 127.0.0.1. Zero configuration: a free port unless one is given, a
 * generated password that is a Pulumi secret (encrypted in state, never printed). It outlives
 * `pulumi up`; its delete stops it (fast shutdown) and removes its folder; the snapshots stay. Any input
 * change replaces it with a new, empty cluster (restore a snapshot into it). Type token:
 * `pulumi-nodejs:dynamic/local:Database`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource } from "../../provider/providerShim";

export interface LocalDatabaseArgs {
    /** Cluster name, 1 to 32 letters, digits, `-`, `_`; its folder is `<stateDir>/postgres/<name>-<suffix>`. */
    name: pulumi.Input<string>;
    /** Absolute folder the project owns for local processes. */
    stateDir: pulumi.Input<string>;
    /** Port on 127.0.0.1, 1024..65535, or 0 for a free one picked at create. @default 0 */
    port?: pulumi.Input<number>;
    /** The database the app uses. @default "app" */
    database?: pulumi.Input<string>;
    /** The role the app, the migration and the snapshots connect as (the cluster's owner). @default "app" */
    user?: pulumi.Input<string>;
}

export class LocalDatabase extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** Always `127.0.0.1`. */
    declare readonly host: pulumi.Output<string>;
    /** The port it listens on (the free one picked, when `port` was 0). */
    declare readonly listenPort: pulumi.Output<number>;
    declare readonly database: pulumi.Output<string>;
    declare readonly user: pulumi.Output<string>;
    /** The role's generated password: a Pulumi secret. */
    declare readonly password: pulumi.Output<string>;
    /** The postmaster's log. */
    declare readonly logPath: pulumi.Output<string>;
    declare readonly pid: pulumi.Output<number>;

    constructor(name: string, args: LocalDatabaseArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "localDatabase",
            "local",
            "Database",
            name,
            { ...args, port: args.port ?? 0, database: args.database ?? "app", user: args.user ?? "app", host: undefined, listenPort: undefined, password: undefined, logPath: undefined, pid: undefined },
            opts,
            ["password"],
        );
    }

    /** How clients reach it (a secret: it holds the password). */
    connection(): pulumi.Output<{ host: string; port: number; database: string; user: string; password: string }> {
        return pulumi.secret(
            pulumi.all([this.host, this.listenPort, this.database, this.user, this.password]).apply(([host, port, database, user, password]) => ({ host, port, database, user, password })),
        );
    }
}
