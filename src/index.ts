/**
 * haproxy-bluegreen: zero-downtime minor upgrades of application servers behind HAProxy load
 * balancers, as Pulumi components. This file is the package's whole public surface.
 *
 * - `BlueGreenDeployment`: the whole runbook (snapshot, migration, pool, gates, attach, smoke check,
 *   drain, detach, terminate) for one generation at a time; change `generation` to flip.
 * - The runbook's pieces, for programs that need only some: `DatabaseSnapshot`, `Migration`,
 *   `AppServerPool`, `HealthGate`, `Membership` (one server on every load balancer: attach, drain,
 *   detach), `PoolMembership` (all servers of a generation at once), `Adoption` (retire servers your
 *   HAProxy already has).
 * - Targets, where things come to exist: `localTarget` (this machine: real HAProxy and app processes),
 *   `awsTarget` (EC2 or an Auto Scaling group per generation, EBS or RDS snapshots, migration over SSH),
 *   or your own `Target`; `groupArrays` gives your own target Auto Scaling groups made elsewhere.
 * - `planDeployment`: what a deployment will build, as plain data.
 * - `RuntimeClient`: the HAProxy Runtime API client the providers use.
 */
import type { AwsTargetArgs } from "./targets/aws/target";
import type { Target } from "./targets/target";

export { BlueGreenDeployment, type BlueGreenDeploymentArgs } from "./deployment";
export { DatabaseSnapshot, type DatabaseSnapshotArgs } from "./database/snapshot";
export { Migration, type MigrationArgs } from "./database/migration";
export { AppServerPool, type AppServerPoolArgs } from "./pool/pool";
export { HealthGate, type HealthGateArgs } from "./gate/healthGate";
export { Membership, type MembershipArgs } from "./haproxy/membership";
export { PoolMembership, type PoolMembershipArgs } from "./haproxy/poolMembership";
export { Adoption, type AdoptionArgs } from "./haproxy/adoption";

export type { Target, LoadBalancerOutputs, LoadBalancerRequest, ServerOutputs, ServerRequest, ServerArrays, ServerArray, ServerArrayRequest, FoundServer } from "./targets/target";
export { localTarget, localStateDir, type LocalTargetArgs } from "./targets/local/target";
export type { AwsTargetArgs } from "./targets/aws/target";
export type { AutoScalingSettings } from "./targets/aws/scalingGroup/serverArrays";
export type { AwsEndpoint } from "./targets/aws/scalingGroup/awsEndpoint";
export { groupArrays, type GroupArraysArgs } from "./targets/aws/scalingGroup/groupArrays";

/** The `aws` target; `@pulumi/aws` and `@pulumi/command` are loaded only when it is used. */
export function awsTarget(args: AwsTargetArgs): Target {
    return (require("./targets/aws/target") as typeof import("./targets/aws/target")).awsTarget(args);
}

export {
    planDeployment,
    planPool,
    planMembership,
    specForGeneration,
    type DeploymentPlan,
    type DeploymentSettings,
    type HaproxySettings,
    type HealthCheckSettings,
    type PoolSettings,
    type ServerSpec,
} from "./plan";
export { TYPES, childNames, serverName } from "./names";
export { nextHistory, readLastOutputs, type GenerationHistory } from "./generationHistory";

export type { DrainSettings, LoadBalancerRef, PoolServer } from "./haproxy/membershipSpec";
export type { ServerOptions } from "./haproxy/serverOptions";
export type { CheckOptions } from "./haproxy/runtime/validate";
export type { SshCredentials } from "./haproxy/runtime/transport";
export { RuntimeClient, RuntimeCommandError, type RuntimeClientOptions, type RuntimeErrorCode } from "./haproxy/runtime/client";
export { RuntimeInputError } from "./haproxy/runtime/validate";
export { RuntimeConnectionError } from "./haproxy/runtime/transport";
