/**
 * The names of everything a deployment registers, in one place: the type tokens of its components and
 * dynamic resources, and the names of its children. The plan summary, the phase clock, the benchmarks
 * and the tests read names and types through this module instead of parsing them.
 */

/** Type tokens of the components and dynamic resources the library registers. */
export const TYPES = {
    deployment: "bluegreen:index:BlueGreenDeployment",
    protectionGuard: "bluegreen:index:ProtectionGuard",
    pool: "bluegreen:pool:AppServerPool",
    snapshot: "bluegreen:database:DatabaseSnapshot",
    migration: "bluegreen:database:Migration",
    membership: "pulumi-nodejs:dynamic/haproxy:Membership",
    poolMembership: "pulumi-nodejs:dynamic/haproxy:PoolMembership",
    adoption: "pulumi-nodejs:dynamic/haproxy:Adoption",
    orphanSweep: "pulumi-nodejs:dynamic/haproxy:OrphanSweep",
    healthGate: "pulumi-nodejs:dynamic/gate:HealthGate",
    frozenGenerations: "pulumi-nodejs:dynamic/generations:FrozenGenerations",
    localLoadBalancer: "pulumi-nodejs:dynamic/local:LoadBalancer",
    localAppServers: "pulumi-nodejs:dynamic/local:AppServers",
    localSnapshot: "pulumi-nodejs:dynamic/local:Snapshot",
    localMigration: "pulumi-nodejs:dynamic/local:Migration",
    localDatabase: "pulumi-nodejs:dynamic/local:Database",
    awsGroupInstances: "pulumi-nodejs:dynamic/aws:GroupInstances",
    awsScalingHold: "pulumi-nodejs:dynamic/aws:ScalingHold",
    awsScalingRelease: "pulumi-nodejs:dynamic/aws:ScalingRelease",
} as const;

/** Type tokens of what the aws target registers (@pulumi/aws, @pulumi/command). */
export const AWS_TYPES = {
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    autoScalingGroup: "aws:autoscaling/group:Group",
    ebsSnapshot: "aws:ebs/snapshot:Snapshot",
    rdsSnapshot: "aws:rds/snapshot:Snapshot",
    rdsClusterSnapshot: "aws:rds/clusterSnapshot:ClusterSnapshot",
    remoteCommand: "command:remote:Command",
} as const;

/** The resource types that carry out a runbook step, whichever target registers them. */
export const STEP_TYPES: Record<"snapshot" | "migration" | "server" | "array" | "membership", readonly string[]> = {
    snapshot: [TYPES.localSnapshot, AWS_TYPES.ebsSnapshot, AWS_TYPES.rdsSnapshot, AWS_TYPES.rdsClusterSnapshot],
    migration: [TYPES.localMigration, AWS_TYPES.remoteCommand],
    server: [TYPES.localAppServers, AWS_TYPES.instance],
    array: [AWS_TYPES.autoScalingGroup],
    membership: [TYPES.poolMembership, TYPES.membership],
};

/** HAProxy server name of server `index` of a generation, e.g. `app-g2-0`. */
export function serverName(namePrefix: string, generation: string, index: number): string {
    return `${namePrefix}-${generation}-${index}`;
}

/**
 * HAProxy server name of an Auto Scaling group's instance, e.g. `app-g2-i-0a1b2c3d4e5f60001`: the
 * instance id in place of the index, so a server keeps its name whatever the group adds or removes.
 */
export function arrayServerName(namePrefix: string, generation: string, instanceId: string): string {
    return `${namePrefix}-${generation}-${instanceId}`;
}

/** The children of a deployment named `name`. Generation-scoped names carry the generation. */
export function childNames(name: string) {
    return {
        snapshot: (migrationVersion: string) => `${name}-snapshot-${migrationVersion}`,
        migration: (migrationVersion: string) => `${name}-migration-${migrationVersion}`,
        pool: (generation: string) => `${name}-pool-${generation}`,
        membership: (generation: string) => `${name}-members-${generation}`,
        smoke: (generation: string) => `${name}-smoke-${generation}`,
        /** The hold of the other generations' scaling groups while `generation` takes over (runbook step 10). */
        hold: (generation: string) => `${name}-hold-${generation}`,
        /** The release of `generation`'s scaling group once it serves (runbook step 16). */
        release: (generation: string) => `${name}-release-${generation}`,
        adopted: `${name}-adopted`,
        orphans: `${name}-orphans`,
        frozen: `${name}-generations`,
        guard: `${name}-protected`,
    };
}

/** The children of a pool named `name`. */
export function poolChildNames(name: string) {
    return {
        server: (index: number) => `${name}-${index}`,
        /** A batch of servers as one resource: the canaries, or the rest. */
        batch: (canaries: boolean) => `${name}-${canaries ? "canaries" : "servers"}`,
        canaryGate: `${name}-canary-gate`,
        gate: `${name}-gate`,
        /** A server array's launch template, Auto Scaling group and the resource that finds its instances. */
        launchTemplate: `${name}-template`,
        group: `${name}-group`,
        instances: `${name}-instances`,
    };
}

/**
 * The generation a generation-scoped child's resource name carries, read back from what `childNames` and
 * `poolChildNames` make (`site-pool-g2-0`, `site-members-g2`, `site-smoke-g2`, `site-hold-g2` -> `g2`); `undefined` for
 * other names.
 */
export function generationOf(resourceName: string): string | undefined {
    const parts = resourceName.split("-");
    const at = parts.findIndex((p, i) => i > 0 && ["pool", "members", "smoke", "hold", "release"].includes(p));
    const generation = at < 0 ? undefined : parts[at + 1];
    return generation !== undefined && /^[a-z][a-z0-9]*$/.test(generation) ? generation : undefined;
}
