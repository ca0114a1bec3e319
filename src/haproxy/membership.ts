/**
 * `Membership`: one app server in one backend on every load balancer (runbook steps 11-14).
 * Creating it attaches the server; deleting it drains the server gracefully and removes it.
 * Type token: `pulumi-nodejs:dynamic/haproxy:Membership`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource, type InputFields } from "../provider/providerShim";
import type { CheckOptions } from "./runtime/validate";
import type { DrainSettings, LoadBalancerRef } from "./membershipSpec";
import type { ServerOptions } from "./serverOptions";
import type { SshCredentials } from "./runtime/transport";
import { ownerIn, type ServerOwner } from "./ownership";

export interface MembershipArgs {
    /** Every load balancer the server joins. */
    loadBalancers: pulumi.Input<pulumi.Input<InputFields<LoadBalancerRef>>[]>;
    /** The HAProxy backend (must use a dynamic algorithm such as roundrobin or leastconn). */
    backend: pulumi.Input<string>;
    /** The server's name in the backend, unique per generation (e.g. `app-g2-0`). */
    server: pulumi.Input<string>;
    /** IPv4, IPv6 or DNS name of the app server. */
    address: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** @default 1 */
    weight?: pulumi.Input<number>;
    /** Health check of the server; uses the backend's `option httpchk`. Kept from the attach on. @default { enabled: true } */
    check?: pulumi.Input<CheckOptions>;
    /** TLS, limits, cookie and the rest of what the backend's own server lines say (serverOptions.ts). Kept from the attach on. @default {} */
    options?: pulumi.Input<InputFields<ServerOptions>>;
    /** Longest wait for the server to be UP on every load balancer, in ms. @default 60000 */
    attachTimeoutMs?: pulumi.Input<number>;
    /** Longest wait for the drained server to be removable on a load balancer, in ms. @default 30000 */
    detachTimeoutMs?: pulumi.Input<number>;
    /** How the server leaves on delete. @default { method: "drain", timeoutMs: 300000, onTimeout: "fail", pollIntervalMs: 250, quietPeriodMs: 2000, minimumMs: 0, tunnelGraceMs: 30000 } */
    drain?: pulumi.Input<InputFields<Partial<DrainSettings>>>;
    /** Credentials for `ssh://` endpoints. Stored as a Pulumi secret. */
    ssh?: pulumi.Input<SshCredentials>;
    /**
     * Keep the server only in the running HAProxy processes, without servers files (needed for `tcp://`
     * endpoints): a reload or restart loses it until the next `pulumi up` repairs it. @default false
     */
    runtimeOnly?: pulumi.Input<boolean>;
}

/**
 * The owner recorded on the server lines of the membership resource `name` of this program's stack
 * (ownership.ts); the provider keeps the one recorded at create.
 */
export function ownerInThisStack(name: string): ServerOwner {
    return ownerIn({ organization: pulumi.getOrganization(), project: pulumi.getProject(), stack: pulumi.getStack() }, name);
}

export class Membership extends ProjectDynamicResource {
    /** Names of the load balancers that have the server, as last seen. */
    declare readonly attachedTo: pulumi.Output<string[]>;
    declare readonly backend: pulumi.Output<string>;
    declare readonly server: pulumi.Output<string>;
    /** The stack and resource recorded as the server's owner on its line in every servers file. */
    declare readonly owner: pulumi.Output<ServerOwner>;

    constructor(name: string, args: MembershipArgs, opts?: pulumi.CustomResourceOptions) {
        super("membership", "haproxy", "Membership", name, { ...args, owner: ownerInThisStack(name), attachedTo: undefined }, opts, ["ssh"]);
    }
}
