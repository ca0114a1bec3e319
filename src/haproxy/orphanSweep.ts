/**
 * `OrphanSweep`: drains and removes the servers this stack owns that no resource of it claims (left by
 * a `pulumi up` killed between HAProxy's change and the engine's state write; orphanSweepProvider.ts).
 * `pulumi preview` lists them; the next `pulumi up` removes them like an old generation's servers.
 * Type token: `pulumi-nodejs:dynamic/haproxy:OrphanSweep`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource, type InputFields } from "../provider/providerShim";
import type { DrainSettings, LoadBalancerRef } from "./membershipSpec";
import type { SshCredentials } from "./runtime/transport";

export interface OrphanSweepArgs {
    /** The owning stack as server lines record it (`ownerInThisStack(...).stack`). */
    stack: pulumi.Input<string>;
    /** The start of the owner resource names (as recorded) the sweep looks at, e.g. `site-members-`: one deployment's. */
    scope: pulumi.Input<string>;
    /** Owner resource names (as recorded) whose servers are claimed: never touched by the sweep. */
    claimed: pulumi.Input<pulumi.Input<string>[]>;
    /** Every load balancer to look at. */
    loadBalancers: pulumi.Input<pulumi.Input<InputFields<LoadBalancerRef>>[]>;
    /** The HAProxy backend. */
    backend: pulumi.Input<string>;
    /** How orphans leave. @default the Membership's */
    drain?: pulumi.Input<InputFields<Partial<DrainSettings>>>;
    /** Credentials for `ssh://` endpoints. Stored as a Pulumi secret. */
    ssh?: pulumi.Input<SshCredentials>;
}

export class OrphanSweep extends ProjectDynamicResource {
    /** Names of the servers the last update drained and removed. */
    declare readonly removed: pulumi.Output<string[]>;

    constructor(name: string, args: OrphanSweepArgs, opts?: pulumi.CustomResourceOptions) {
        super("orphanSweep", "haproxy", "OrphanSweep", name, { ...args, removed: undefined }, opts, ["ssh"]);
    }
}
