/**
 * `Adoption`: brings the servers of an existing fleet under management so that a flip retires them like
 * an old generation (runbook steps 12-14 and 18): drained (no new sessions, sticky sessions kept until
 * quiet), then removed from the running HAProxy and from the servers file, so that they do not come
 * back at the next reload. The servers must be defined in the servers file (the backend's section moved
 * there once, docs/OPERATING.md). Type token: `pulumi-nodejs:dynamic/haproxy:Adoption`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource, type InputFields } from "../provider/providerShim";
import type { DrainSettings, LoadBalancerRef } from "./membershipSpec";
import type { SshCredentials } from "./runtime/transport";

export interface AdoptionArgs {
    /** Every load balancer the fleet is on. */
    loadBalancers: pulumi.Input<pulumi.Input<InputFields<LoadBalancerRef>>[]>;
    /** The HAProxy backend of the fleet. */
    backend: pulumi.Input<string>;
    /** Names of the fleet's servers in the backend, e.g. `["web1", "web2"]`. */
    servers: pulumi.Input<pulumi.Input<string>[]>;
    /** How they leave. @default the Membership's: drain state, 300 s timeout, fail, 2 s quiet period */
    drain?: pulumi.Input<InputFields<Partial<DrainSettings>>>;
    /** Credentials for `ssh://` endpoints. Stored as a Pulumi secret. */
    ssh?: pulumi.Input<SshCredentials>;
}

export class Adoption extends ProjectDynamicResource {
    /** Names of the servers retired so far. */
    declare readonly retired: pulumi.Output<string[]>;

    constructor(name: string, args: AdoptionArgs, opts?: pulumi.CustomResourceOptions) {
        super("adoption", "haproxy", "Adoption", name, { ...args, retired: undefined }, opts, ["ssh"]);
    }
}
