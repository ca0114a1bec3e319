/**
 * What a target (local, aws) provides to the deployment: how load balancers, servers, the database
 * snapshot and the migration come to exist. The HAProxy membership, health gate and smoke check are the
 * same for every target.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { HealthCheckSettings, ServerSpec } from "../plan";

/** A load balancer as the memberships and the smoke check see it. */
export interface LoadBalancerOutputs {
    name: string;
    /** Runtime API endpoint (`unix://`, `tcp://` or `ssh://`). */
    endpoint: pulumi.Output<string>;
    /** Where clients reach the site through this load balancer. */
    frontendUrl: pulumi.Output<string>;
    /**
     * Absolute path, on the load balancer's host, of the file holding the backend's section with its
     * servers, which that HAProxy loads at every start and reload (docs/OPERATING.md).
     * @default none: the membership lives only in the running process (`runtimeOnly`)
     */
    serversFile?: pulumi.Output<string>;
    /** Name of the `defaults` section the servers file's backend takes its settings from. @default none */
    backendDefaults?: pulumi.Output<string>;
    /** Expected SSH host key fingerprint (`SHA256:...`) of an `ssh://` endpoint's host. @default none */
    hostKeySha256?: pulumi.Output<string>;
}

/** One app server of a generation. */
export interface ServerOutputs {
    /** The HAProxy server name, e.g. `app-g2-0`. */
    name: string;
    address: pulumi.Output<string>;
    port: pulumi.Output<number>;
    /** The URL the health gate checks (the app's health check, which proves it reaches the database). */
    healthUrl: pulumi.Output<string>;
    /** The health-check file as `file:///...`, for the `healthcheck` drain method (local target only). */
    healthFile?: pulumi.Output<string>;
    /** The resource that is the server, for dependencies. */
    resource: pulumi.Resource;
}

export interface ServerRequest {
    /** Resource name of the server, for a target that makes one resource per server. */
    resourceName: string;
    /** HAProxy server name. */
    serverName: string;
    generation: string;
    index: number;
    /** The generation's spec: shared spec plus its overrides. */
    spec: ServerSpec;
    /** Port the app listens on (a target may pick its own, as the local one does). */
    port: number;
    /** URL path of the app's health check. */
    healthCheckPath: string;
}

/** Servers created together: a canary batch, or the rest of a generation. */
export interface ServerBatch {
    /** Resource name for a target that makes the batch one resource, e.g. `site-pool-g2-servers`. */
    resourceName: string;
    servers: ServerRequest[];
}

/** One server of a server array, as found once its group has it InService and healthy. */
export interface FoundServer {
    /** The HAProxy server name, e.g. `app-g2-i-0a1b2c3d4e5f60001` (names.ts `arrayServerName`). */
    name: string;
    address: string;
    port: number;
    /** The URL the health gate checks. */
    healthUrl: string;
}

/** What a server array of one generation is built from. */
export interface ServerArrayRequest {
    /** The pool's resource name, e.g. `site-pool-g2`: the array's resources are named after it. */
    poolName: string;
    generation: string;
    /** The generation's spec: shared spec plus its overrides (the array's launch template, step 15). */
    spec: ServerSpec;
    /** Servers the group holds during the flip (its desired capacity, minimum and maximum until released). */
    size: number;
    /** First part of the servers' names. */
    namePrefix: string;
    port: number;
    healthCheckPath: string;
}

/** The servers of one generation as a group of the target's own that starts them (an Auto Scaling group). */
export interface ServerArray {
    /** The group's name at its provider, for its release. */
    name: pulumi.Output<string>;
    /** The serving servers, sorted; found again at every `pulumi up` and preview, so the list follows the group. */
    servers: pulumi.Output<FoundServer[]>;
    /** Instances the group has beyond its desired capacity after a scale-in, to drain and then end (ServerArrays' `release`). */
    leaving: pulumi.Output<string[]>;
    /** The resource that found the servers, for dependencies. */
    resource: pulumi.Resource;
}

/**
 * Server arrays (runbook steps 10, 15 and 16): a target whose generations are groups that start their
 * own servers (aws with `autoScaling`). The deployment asks for the array of a generation, holds the
 * other generations' arrays still before it attaches, and releases the new one once it serves.
 */
export interface ServerArrays {
    /** The array of one generation (step 15: its template is the generation's frozen spec), held at `size`. */
    servers(request: ServerArrayRequest, opts: pulumi.CustomResourceOptions): ServerArray;
    /** Step 10: the deployment's other generations' arrays launch, terminate and replace nothing from now on. */
    hold(resourceName: string, keepGenerations: string[], opts: pulumi.CustomResourceOptions): pulumi.Resource;
    /** Step 16: the array gets its scaling back; instances it takes out go once drained. */
    release(resourceName: string, array: ServerArray, opts: pulumi.CustomResourceOptions): pulumi.Resource;
}

/** What the load balancers must know of the deployment. */
export interface LoadBalancerRequest {
    /** The backend the app servers join. */
    backend: string;
    /** The app servers' health check (a target that configures HAProxy itself uses it for `option httpchk`). */
    healthCheck: Required<HealthCheckSettings>;
    /**
     * Whether the servers' options ask for a persistence cookie (`serverOptions.cookie`): a target that
     * configures HAProxy itself gives the backend cookie persistence. @default false
     */
    cookie?: boolean;
}

/**
 * Where the runbook's resources come to exist. The deployment asks; the target builds. `localTarget`
 * and `awsTarget` are the two this package ships; a team may write its own.
 */
export interface Target {
    /**
     * What the target itself runs for the database (the local target: its PostgreSQL), registered once
     * under the deployment, before the snapshot. @default none: the database exists already (aws)
     */
    database?(parent: pulumi.Resource): pulumi.Resource | undefined;
    /** The load balancers every generation joins; not generation-scoped. */
    loadBalancers(parent: pulumi.Resource, request: LoadBalancerRequest): LoadBalancerOutputs[];
    /** Snapshot of the database (retained on delete) before the migration `migrationVersion`; returns its id. */
    snapshot(resourceName: string, migrationVersion: string, opts: pulumi.CustomResourceOptions): pulumi.Output<string>;
    /** The migration to `migrationVersion`, run once per version. */
    migration(resourceName: string, migrationVersion: string, opts: pulumi.CustomResourceOptions): pulumi.Resource;
    /** The app servers of one batch, in its order: one resource per server or one for the batch, as the target sees fit. */
    servers(batch: ServerBatch, opts: pulumi.CustomResourceOptions): ServerOutputs[];
    /** Server arrays instead of `servers`: a group per generation that starts its own servers. @default none */
    arrays?: ServerArrays;
}
