/**
 * The Pulumi program of an aws stack, built as index.ts builds it, under strict mocks: a realistic raw
 * config (two load balancers over ssh://, three servers over two subnets, a migration, the SSH hosts'
 * keys), the mock outputs of every type the aws target may register, and `buildAwsProgram`, which
 * returns the recorder and the deployment.
 */
import * as pulumi from "@pulumi/pulumi";
import type { SshCredentials } from "../../../src/haproxy/runtime/transport";
import { inputsAsOutputs, programDone, useStrictMocks, type MockOutputs } from "../../support/mocks";

/** The custom resource types of an aws deployment. */
export const TYPES = {
    instance: "aws:ec2/instance:Instance",
    snapshot: "aws:ebs/snapshot:Snapshot",
    rdsSnapshot: "aws:rds/snapshot:Snapshot",
    rdsClusterSnapshot: "aws:rds/clusterSnapshot:ClusterSnapshot",
    command: "command:remote:Command",
    poolMembership: "pulumi-nodejs:dynamic/haproxy:PoolMembership",
    adoption: "pulumi-nodejs:dynamic/haproxy:Adoption",
    orphanSweep: "pulumi-nodejs:dynamic/haproxy:OrphanSweep",
    gate: "pulumi-nodejs:dynamic/gate:HealthGate",
    frozenGenerations: "pulumi-nodejs:dynamic/generations:FrozenGenerations",
} as const;

/** The component types of a deployment. */
export const COMPONENT_TYPES = [
    "bluegreen:index:BlueGreenDeployment",
    "bluegreen:index:ProtectionGuard",
    "bluegreen:pool:AppServerPool",
    "bluegreen:database:DatabaseSnapshot",
    "bluegreen:database:Migration",
] as const;

/** Instance `site-pool-g1-<i>` gets the private IP 10.30.0.<10 + i>. */
export function privateIpOf(resourceName: string): string {
    return `10.30.0.${10 + Number(/(\d+)$/.exec(resourceName)?.[1])}`;
}

/** Mock outputs: inputs plus what the provider would compute. */
const AWS_OUTPUTS: Record<string, MockOutputs> = {
    [TYPES.instance]: (args) => ({ ...args.inputs, privateIp: privateIpOf(args.name) }),
    [TYPES.snapshot]: inputsAsOutputs,
    [TYPES.rdsSnapshot]: inputsAsOutputs,
    [TYPES.rdsClusterSnapshot]: inputsAsOutputs,
    [TYPES.command]: (args) => ({ ...args.inputs, stdout: "migrated", stderr: "" }),
    [TYPES.poolMembership]: inputsAsOutputs,
    [TYPES.adoption]: inputsAsOutputs,
    [TYPES.orphanSweep]: inputsAsOutputs,
    [TYPES.gate]: inputsAsOutputs,
    [TYPES.frozenGenerations]: inputsAsOutputs,
};

export const STACK = "prod";
export const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n";
export const PASSPHRASE = "correct horse battery staple";
export const SUBNETS = ["subnet-0a1b2c3d4e5f61001", "subnet-0a1b2c3d4e5f61002"];
const MIGRATION_VERSION = "0042-add-orders-index";

/** The database host's host keys (`keytype base64key`), as `ssh-keyscan 10.30.2.5` prints them. */
export const DATABASE_HOST_KEYS = {
    ed25519: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC6KkiWR3LwF3KwylM7jCduzoBz/iigTs1U+EXAz9YyR",
    ecdsa: "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDkBKat+PeytD/wYSS4clPHSsREZ7Eaw4YYEkr3YJtLwfywckyS4pqpEgEeM+14uIJT+0oPF2VO9rAhlK9pwfRo=",
};
/** The load balancers' host key. */
export const LB_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMIiVTdU+GNxiag/sDM4f7CAuW3Rv5GBr6dPsWt40nQM";
/** The fingerprint of `LB_HOST_KEY`, as `ssh-keygen -lf` prints it. */
export const LB_HOST_KEY_SHA256 = "SHA256:HSln9AmpuDkPM6izCi5SFItxBpd+ATLI2V3jr3OQ5h0";
/** The `sshKnownHosts` of the prod-like stack: the database host (two key types) and both load balancers. */
export const KNOWN_HOSTS = [
    "# ssh-keyscan 10.30.2.5 10.30.1.10 10.30.1.11",
    `10.30.2.5 ${DATABASE_HOST_KEYS.ed25519}`,
    `10.30.2.5 ${DATABASE_HOST_KEYS.ecdsa}`,
    `10.30.1.10,10.30.1.11 ${LB_HOST_KEY}`,
    "",
].join("\n");

/** The shared server spec of the prod-like stack. */
export const PROD_SPEC = {
    image: "ami-0a1b2c3d4e5f67890",
    instanceType: "m6i.large",
    appRepository: "https://git.example.com/shop/app.git",
    appRef: "v1.4.0",
    inputs: { DATABASE_URL_FILE: "/etc/app/database-url", LOG_LEVEL: "info" } as Record<string, string>,
};

/** A complete aws stack config as `pulumi.Config.getObject` returns it; `generation` g1. */
export function rawAwsConfig(): Record<string, unknown> {
    return {
        generation: "g1",
        target: "aws",
        canarySize: 0,
        pool: {
            size: 3,
            namePrefix: "app",
            port: 8080,
            spec: { ...PROD_SPEC, inputs: { ...PROD_SPEC.inputs } },
            generations: { g2: { appRef: "v1.5.0", inputs: { FEATURE_CHECKOUT_V2: "on" } } },
        },
        healthCheck: { path: "/health", expectedStatus: 200, timeoutSeconds: 300, intervalMs: 2000, rise: 2, fall: 3 },
        haproxy: {
            backend: "app",
            loadBalancers: [
                { name: "lb-prod-1", endpoint: "ssh://deploy@10.30.1.10/run/haproxy/admin.sock", frontendUrl: "http://10.30.1.10/" },
                { name: "lb-prod-2", endpoint: "ssh://deploy@10.30.1.11/run/haproxy/admin.sock", frontendUrl: "http://10.30.1.11/" },
            ],
            attachTimeoutSeconds: 120,
            drain: { method: "drain", timeoutSeconds: 1800, onTimeout: "fail", pollIntervalMs: 500 },
        },
        database: {
            volume: "vol-0123456789abcdef0",
            migration: { version: MIGRATION_VERSION, command: ["/opt/app/bin/migrate", "--to", "0042"] },
        },
        aws: {
            subnetIds: SUBNETS,
            securityGroupIds: ["sg-0a1b2c3d4e5f60003"],
            keyName: "deploy-prod",
            instanceProfile: "app-server-prod",
            databaseHost: "10.30.2.5",
            databaseUser: "deploy",
        },
        sshKnownHosts: KNOWN_HOSTS,
    };
}

/** `rawAwsConfig()` with some top-level keys replaced. */
export function rawAwsConfigWith(changes: Record<string, unknown>): Record<string, unknown> {
    return { ...rawAwsConfig(), ...changes };
}

/** The SSH credentials as the stack config gives them: a secret. */
export function sshSecret(): pulumi.Output<SshCredentials> {
    return pulumi.secret({ privateKey: PRIVATE_KEY, passphrase: PASSPHRASE });
}

/** Installs fresh strict mocks, then loads the modules under test, so that they load after `setMocks`. */
export async function loadUnderMocks() {
    const recorder = await useStrictMocks({ customs: AWS_OUTPUTS, components: COMPONENT_TYPES, stack: STACK });
    const { parseDeploymentConfig } = await import("../../../program/config");
    const { BlueGreenDeployment } = await import("../../../src/deployment");
    const { deploymentSettings, targetFor } = await import("../../../program/targets");
    return { recorder, parseDeploymentConfig, BlueGreenDeployment, deploymentSettings, targetFor };
}

/** Builds the program of index.ts under fresh strict mocks and waits until every resource is registered. */
export async function buildAwsProgram(raw: Record<string, unknown>) {
    const { recorder, parseDeploymentConfig, BlueGreenDeployment, deploymentSettings, targetFor } = await loadUnderMocks();
    const config = parseDeploymentConfig(raw);
    const ssh = sshSecret();
    // As index.ts on a stack's first update: nothing remembered yet.
    const deployment = new BlueGreenDeployment("site", { ...deploymentSettings(config), target: targetFor(config, "site", ssh), ssh, history: {} });
    await programDone(recorder);
    return { recorder, deployment };
}
