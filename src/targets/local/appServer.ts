/**
 * `LocalAppServer`: one app server of the local target as a resource of its own, a process of the
 * bundled demo app (app/server.ts) on a free port of 127.0.0.1, connected to the local database (its
 * credentials are a Pulumi secret). It outlives `pulumi up` and is stopped gracefully by its delete. Any
 * input change replaces it. The local target makes a generation's servers one `LocalAppServers`; this
 * one serves stacks made before 0.2 until their next flip (ServerBatch.perServer), and programs that
 * want single servers. Type token: `pulumi-nodejs:dynamic/local:AppServer`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { ProjectDynamicResource } from "../../provider/providerShim";
import type { Connection } from "./postgres";

export interface LocalAppServerArgs {
    /** Server name (1 to 63 letters, digits, `-`, `_`, `.`, `:`), e.g. `app-g2-0`; the app reports it. */
    name: pulumi.Input<string>;
    /** Generation label, e.g. `g2`; the app reports it. */
    generation: pulumi.Input<string>;
    /** Absolute folder the project owns for local processes; the server lives in `<stateDir>/servers/`. */
    stateDir: pulumi.Input<string>;
    /** The database the app uses (a secret: it holds the password); health needs it reachable. */
    database: pulumi.Input<Connection>;
    /** The application version (branch, tag or commit); the app reports it. */
    appRef: pulumi.Input<string>;
    /**
     * More environment variables of the app (the generation's inputs), e.g. `REQUIRED_SCHEMA`. May not set
     * PORT, HOST, SERVER_NAME, GENERATION, APP_REF, HEALTH_FILE, NODE_PATH or PG* variables. @default {}
     */
    env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class LocalAppServer extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** Always `127.0.0.1`. */
    declare readonly address: pulumi.Output<string>;
    declare readonly port: pulumi.Output<number>;
    /** `http://127.0.0.1:<port>/` */
    declare readonly url: pulumi.Output<string>;
    /** `http://127.0.0.1:<port>/health` */
    declare readonly healthUrl: pulumi.Output<string>;
    declare readonly pid: pulumi.Output<number>;
    /** Absolute path of the health-check file; removing it fails the health check (runbook step 12). */
    declare readonly healthFile: pulumi.Output<string>;
    /** The server's stdout and stderr: one line per request. */
    declare readonly logPath: pulumi.Output<string>;

    constructor(name: string, args: LocalAppServerArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            path.join(__dirname, "appServerProvider"),
            "local",
            "AppServer",
            name,
            {
                ...args,
                env: args.env ?? {},
                address: undefined,
                port: undefined,
                url: undefined,
                healthUrl: undefined,
                pid: undefined,
                healthFile: undefined,
                logPath: undefined,
            },
            opts,
            ["database"],
        );
    }
}
