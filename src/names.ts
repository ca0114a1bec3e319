/**
 * The names of everything a deployment registers, in one place: the type tokens of its components and
 * dynamic resources, and the names of its children. The plan summary, the phase clock, the benchmarks
 * and the tests read names and types through this module instead of parsing them.
 */

/** Type tokens of the components and dynamic resources the library registers. */
export const TYPES = {
    deployment: "bluegreen:index:BlueGreenDeployment",
    pool: "bluegreen:pool:AppServerPool",
    snapshot: "bluegreen:database:DatabaseSnapshot",
    migration: "bluegreen:database:Migration",
    membership: "pulumi-nodejs:dynamic/haproxy:Membership",
    adoption: "pulumi-nodejs:dynamic/haproxy:Adoption",
    healthGate: "pulumi-nodejs:dynamic/gate:HealthGate",
    localLoadBalancer: "pulumi-nodejs:dynamic/local:LoadBalancer",
    localAppServer: "pulumi-nodejs:dynamic/local:AppServer",
    localSnapshot: "pulumi-nodejs:dynamic/local:Snapshot",
    localMigration: "pulumi-nodejs:dynamic/local:Migration",
    localDatabase: "pulumi-nodejs:dynamic/local:Database",
} as const;

/** HAProxy server name of server `index` of a generation, e.g. `app-g2-0`. */
export function serverName(namePrefix: string, generation: string, index: number): string {
    return `${namePrefix}-${generation}-${index}`;
}

/** The children of a deployment named `name`. Generation-scoped names carry the generation. */
export function childNames(name: string) {
    return {
        snapshot: (migrationVersion: string) => `${name}-snapshot-${migrationVersion}`,
        migration: (migrationVersion: string) => `${name}-migration-${migrationVersion}`,
        pool: (generation: string) => `${name}-pool-${generation}`,
        membership: (generation: string, index: number) => `${name}-member-${generation}-${index}`,
        smoke: (generation: string) => `${name}-smoke-${generation}`,
        adopted: `${name}-adopted`,
    };
}

/** The children of a pool named `name`. */
export function poolChildNames(name: string) {
    return {
        server: (index: number) => `${name}-${index}`,
        canaryGate: `${name}-canary-gate`,
        gate: `${name}-gate`,
    };
}
