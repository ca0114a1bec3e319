/**
 * `haproxy-bluegreen/provider`: the one module of this package that Pulumi state names. Every dynamic
 * resource of the package stores in its state (`__provider`, providerShim.ts) a few lines that require
 * this module and call `provider(<kind>)`; this module maps the kind to the provider module of the
 * installed release, required only when asked. Deletes and reads run the stored text with the code
 * installed at the time, so the package's internal files may move from one release to the next.
 *
 * The kinds are a public, stable contract: state written by every release names them, so a kind is never
 * renamed or removed, and each new kind of resource gets a new name. Each kind is the key of its type
 * token in `TYPES` (names.ts):
 * - `membership`: `Membership`, one server on every load balancer;
 * - `poolMembership`: `PoolMembership`, all servers of a generation on every load balancer;
 * - `adoption`: `Adoption`, the servers a HAProxy already had, retired after the new generation serves;
 * - `orphanSweep`: `OrphanSweep`, this stack's servers that no resource claims, drained and removed;
 * - `healthGate`: `HealthGate`, waits until every target answers its health check;
 * - `frozenGenerations`: `FrozenGenerations`, what each serving or remembered generation was built from;
 * - `localLoadBalancer`, `localAppServers`, `localDatabase`, `localSnapshot`, `localMigration`: the local
 *   target's HAProxy, app servers of a generation, PostgreSQL, snapshot and migration;
 * - `awsGroupInstances`, `awsScalingHold`, `awsScalingRelease`: the aws target's serving instances of an
 *   Auto Scaling group, the hold of the other generations' groups (step 10) and the new group's release
 *   (step 16).
 */
import type * as pulumi from "@pulumi/pulumi";

/** The provider module of each kind; each is required on first use. */
const PROVIDERS = {
    membership: () => require("../haproxy/membershipProvider") as typeof import("../haproxy/membershipProvider"),
    poolMembership: () => require("../haproxy/poolMembershipProvider") as typeof import("../haproxy/poolMembershipProvider"),
    adoption: () => require("../haproxy/adoptionProvider") as typeof import("../haproxy/adoptionProvider"),
    orphanSweep: () => require("../haproxy/orphanSweepProvider") as typeof import("../haproxy/orphanSweepProvider"),
    healthGate: () => require("../gate/healthGateProvider") as typeof import("../gate/healthGateProvider"),
    frozenGenerations: () => require("../generations/frozenGenerationsProvider") as typeof import("../generations/frozenGenerationsProvider"),
    localLoadBalancer: () => require("../targets/local/loadBalancerProvider") as typeof import("../targets/local/loadBalancerProvider"),
    localAppServers: () => require("../targets/local/appServersProvider") as typeof import("../targets/local/appServersProvider"),
    localDatabase: () => require("../targets/local/databaseProvider") as typeof import("../targets/local/databaseProvider"),
    localSnapshot: () => require("../targets/local/snapshotProvider") as typeof import("../targets/local/snapshotProvider"),
    localMigration: () => require("../targets/local/migrationProvider") as typeof import("../targets/local/migrationProvider"),
    awsGroupInstances: () => require("../targets/aws/scalingGroup/groupInstancesProvider") as typeof import("../targets/aws/scalingGroup/groupInstancesProvider"),
    awsScalingHold: () => require("../targets/aws/scalingGroup/scalingHoldProvider") as typeof import("../targets/aws/scalingGroup/scalingHoldProvider"),
    awsScalingRelease: () => require("../targets/aws/scalingGroup/scalingReleaseProvider") as typeof import("../targets/aws/scalingGroup/scalingReleaseProvider"),
} satisfies Record<string, () => { default: pulumi.dynamic.ResourceProvider }>;

/** A kind of dynamic resource this package provides (see the file's comment). */
export type ProviderKind = keyof typeof PROVIDERS;

/** Every kind, in the order of the file's comment. */
export const PROVIDER_KINDS = Object.keys(PROVIDERS) as ProviderKind[];

/** The provider of `kind`; an unknown kind is an error naming the known ones. */
export function provider(kind: string): pulumi.dynamic.ResourceProvider {
    if (!Object.hasOwn(PROVIDERS, kind)) {
        throw new Error(`haproxy-bluegreen has no dynamic provider of kind "${kind}" (known kinds: ${PROVIDER_KINDS.join(", ")}): is the installed package older than the state?`);
    }
    return PROVIDERS[kind as ProviderKind]().default;
}
