/**
 * `LocalLoadBalancer`: a dedicated HAProxy on this machine (local target) in production shape: master-worker
 * mode, a frontend on 127.0.0.1, one backend whose section and servers live in a servers file loaded at
 * every start and reload (the memberships write it), its settings in a named `defaults` section, an
 * admin socket for the memberships and a server-state file. It can be reloaded or restarted outside
 * Pulumi (`npm run lb`). Any input change replaces it (old one deleted first).
 * Type token: `pulumi-nodejs:dynamic/local:LoadBalancer`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource, type InputFields } from "../../provider/providerShim";
import type { HealthCheckSettings } from "./haproxyConfig";

export interface LocalLoadBalancerArgs {
    /** Load balancer name: 1 to 63 letters, digits, `-`, `_`, `.`, `:`. Its folder is `<stateDir>/lb/<name>`. */
    name: pulumi.Input<string>;
    /** Absolute folder the project owns for local processes (letters, digits, `_ . @ + / -`). */
    stateDir: pulumi.Input<string>;
    /** Port of the frontend on 127.0.0.1, 1024..65535. */
    frontendPort: pulumi.Input<number>;
    /** Name of the backend the app servers join, 1 to 55 characters (its defaults section is `backend-<backend>`). */
    backend: pulumi.Input<string>;
    /** HAProxy's health check of the backend's servers. */
    healthCheck: pulumi.Input<InputFields<HealthCheckSettings>>;
    /** Cookie persistence in the backend, with dynamic cookies (one key for the stack's load balancers). @default false */
    cookie?: pulumi.Input<boolean>;
}

export class LocalLoadBalancer extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** Runtime API endpoint, `unix://<stateDir>/lb/<name>/admin.sock`. */
    declare readonly endpoint: pulumi.Output<string>;
    /** `http://127.0.0.1:<frontendPort>/` */
    declare readonly frontendUrl: pulumi.Output<string>;
    /** The servers file, `<stateDir>/lb/<name>/servers/<backend>.cfg`: the backend section and its servers. */
    declare readonly serversFile: pulumi.Output<string>;
    /** The `defaults` section holding the backend's settings, `backend-<backend>`. */
    declare readonly backendDefaults: pulumi.Output<string>;
    /** The master CLI socket, `<stateDir>/lb/<name>/master.sock`. */
    declare readonly masterSocket: pulumi.Output<string>;
    /** The master's pid file; after a reload or restart it names the current master. */
    declare readonly pidFile: pulumi.Output<string>;
    /** Pid of the worker that served when created or last refreshed (`show info`'s Pid). */
    declare readonly pid: pulumi.Output<number>;
    /** Pid of the master when created or last refreshed. */
    declare readonly masterPid: pulumi.Output<number>;
    declare readonly configPath: pulumi.Output<string>;
    /** HAProxy's stdout and stderr (including one line per request). */
    declare readonly logPath: pulumi.Output<string>;

    constructor(name: string, args: LocalLoadBalancerArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "localLoadBalancer",
            "local",
            "LoadBalancer",
            name,
            {
                ...args,
                endpoint: undefined,
                frontendUrl: undefined,
                serversFile: undefined,
                backendDefaults: undefined,
                masterSocket: undefined,
                pidFile: undefined,
                pid: undefined,
                masterPid: undefined,
                configPath: undefined,
                logPath: undefined,
            },
            opts,
        );
    }
}
