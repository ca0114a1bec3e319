/**
 * `LocalAppServers`: the servers of one generation (or one canary batch) of the local target as one
 * resource: processes of the bundled demo app (app/server.ts) on free ports of 127.0.0.1, connected to
 * the local database (its credentials are a Pulumi secret). They outlive `pulumi up` and are stopped
 * gracefully by the delete. A change of the shared settings replaces them all; a change of `names`
 * starts and stops servers in place. Type token: `pulumi-nodejs:dynamic/local:AppServers`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource } from "../../provider/providerShim";
import type { RunningAppServer } from "./appServerProcess";
import type { Connection } from "./postgres";

export interface LocalAppServersArgs {
    /** Server names (each 1 to 63 letters, digits, `-`, `_`, `.`, `:`), e.g. `app-g2-0`; each app reports its own. */
    names: pulumi.Input<pulumi.Input<string>[]>;
    /** Generation label, e.g. `g2`; the apps report it. */
    generation: pulumi.Input<string>;
    /** Absolute folder the project owns for local processes; each server lives in `<stateDir>/servers/`. */
    stateDir: pulumi.Input<string>;
    /** The database the apps use (a secret: it holds the password); health needs it reachable. */
    database: pulumi.Input<Connection>;
    /** The application version (branch, tag or commit); the apps report it. */
    appRef: pulumi.Input<string>;
    /**
     * More environment variables of the apps (the generation's inputs), e.g. `REQUIRED_SCHEMA`. May not set
     * PORT, HOST, SERVER_NAME, GENERATION, APP_REF, HEALTH_FILE, NODE_PATH or PG* variables. @default {}
     */
    env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class LocalAppServers extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** The running servers, in the order of `names`: address, port, health URL and file, pid, log. */
    declare readonly servers: pulumi.Output<RunningAppServer[]>;

    constructor(name: string, args: LocalAppServersArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "localAppServers",
            "local",
            "AppServers",
            name,
            { ...args, env: args.env ?? {}, servers: undefined },
            opts,
            ["database"],
        );
    }
}
