/**
 * `LocalLoadBalancer`: a dedicated HAProxy on this machine (local target), with a frontend on
 * 127.0.0.1, one backend that app servers join at run time, and an admin socket for the memberships.
 * Any input change replaces it (old one deleted first). Type token: `pulumi-nodejs:dynamic/local:LoadBalancer`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { ProjectDynamicResource, type InputFields } from "../../providerShim";
import type { HealthCheckSettings } from "../../local/haproxyConfig";

export interface LocalLoadBalancerArgs {
    /** Load balancer name: 1 to 63 letters, digits, `-`, `_`, `.`, `:`. Its folder is `<stateDir>/lb/<name>`. */
    name: pulumi.Input<string>;
    /** Absolute folder the project owns for local processes (letters, digits, `_ . @ + / -`). */
    stateDir: pulumi.Input<string>;
    /** Port of the frontend on 127.0.0.1, 1024..65535. */
    frontendPort: pulumi.Input<number>;
    /** Name of the backend the app servers join. */
    backend: pulumi.Input<string>;
    /** HAProxy's health check of the backend's servers. */
    healthCheck: pulumi.Input<InputFields<HealthCheckSettings>>;
}

export class LocalLoadBalancer extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** Runtime API endpoint, `unix://<stateDir>/lb/<name>/admin.sock`. */
    declare readonly endpoint: pulumi.Output<string>;
    /** `http://127.0.0.1:<frontendPort>/` */
    declare readonly frontendUrl: pulumi.Output<string>;
    /** Pid of the HAProxy process. */
    declare readonly pid: pulumi.Output<number>;
    declare readonly configPath: pulumi.Output<string>;
    /** HAProxy's stdout and stderr (including one line per request). */
    declare readonly logPath: pulumi.Output<string>;

    constructor(name: string, args: LocalLoadBalancerArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            path.join(__dirname, "loadBalancerProvider"),
            "local",
            "LoadBalancer",
            name,
            { ...args, endpoint: undefined, frontendUrl: undefined, pid: undefined, configPath: undefined, logPath: undefined },
            opts,
        );
    }
}
