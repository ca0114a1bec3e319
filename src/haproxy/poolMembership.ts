/**
 * `PoolMembership`: all servers of one generation in one backend on every load balancer, as one
 * resource (runbook steps 11-14). Creating it attaches every server; deleting it drains them all at
 * once and removes them. A flip is then one attach step and one drain step whatever the pool's size,
 * not one per server (which the engine would run `--parallel` at a time, in waves). For servers that
 * come and go one by one, use `Membership`. Type token: `pulumi-nodejs:dynamic/haproxy:PoolMembership`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource, type InputFields } from "../provider/providerShim";
import { ownerInThisStack, type MembershipArgs } from "./membership";
import type { PoolServer } from "./membershipSpec";
import type { ServerOwner } from "./ownership";
import type { AnalysisSettings, RolloutStep } from "./rollout/rolloutSpec";
import type { PrometheusSettings } from "./rollout/prometheusSettings";

export interface PoolMembershipArgs extends Omit<MembershipArgs, "server" | "address" | "port"> {
    /**
     * The servers, 1 to 1000, each with a name unique in the backend (e.g. `app-g2-0`), its address and
     * port, and, for the `healthcheck` drain method, its health-check file.
     */
    servers: pulumi.Input<pulumi.Input<InputFields<PoolServer>>[]>;
    /**
     * Shift traffic to the servers in steps, each analysed against the stable generation's servers (this
     * stack's other servers in the backend), rolling back on its own when the analysis fails
     * (rollout/rolloutSpec.ts, docs/OPERATING.md). @default none: the servers attach at full weight
     */
    rollout?: pulumi.Input<RolloutInput>;
}

/** A rollout as an input: times in ms; every field but `steps`' entries optional (defaults.ts, `DEFAULTS.rollout`). */
export interface RolloutInput {
    steps?: RolloutStep[];
    analysis?: Partial<AnalysisSettings>;
    replacesOwnersStartingWith?: string;
    prometheus?: PrometheusSettings;
}

export class PoolMembership extends ProjectDynamicResource {
    /** Names of the load balancers that have any of the servers, as last seen. */
    declare readonly attachedTo: pulumi.Output<string[]>;
    declare readonly backend: pulumi.Output<string>;
    declare readonly servers: pulumi.Output<PoolServer[]>;
    /** The stack and resource recorded as the servers' owner on their lines in every servers file. */
    declare readonly owner: pulumi.Output<ServerOwner>;

    constructor(name: string, args: PoolMembershipArgs, opts?: pulumi.CustomResourceOptions) {
        super("poolMembership", "haproxy", "PoolMembership", name, { ...args, owner: ownerInThisStack(name), attachedTo: undefined }, opts, ["ssh"]);
    }
}
