/**
 * The Pulumi program of an aws stack, built as index.ts builds it, under strict mocks: a realistic raw
 * config (two load balancers over ssh://, three servers over two subnets, a migration, the SSH hosts'
 * keys), the mock outputs of every type the aws target may register, and `buildAwsProgram`, which
 * returns the recorder and the deployment.
 */
import * as pulumi from "@pulumi/pulumi";
import type { GenerationHistory } from "../../../src/generationHistory";
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
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    group: "aws:autoscaling/group:Group",
    groupInstances: "pulumi-nodejs:dynamic/aws:GroupInstances",
    scalingHold: "pulumi-nodejs:dynamic/aws:ScalingHold",
    scalingRelease: "pulumi-nodejs:dynamic/aws:ScalingRelease",
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

/** The instances the group `<pool>-group` (its mock name `<pool>-group-asg`) has InService: three, ids ending 1..3. */
export function groupInstancesOf(groupName: string): { instanceId: string; privateIp: string; availabilityZone: string }[] {
    const generation = /-pool-([a-z][a-z0-9]*)-group/.exec(groupName)?.[1] ?? "g0";
    const base = generation === "g1" ? 0xa1 : 0xb2;
    return [1, 2, 3].map((n) => ({ instanceId: `i-0${base.toString(16)}00000000000${n}`, privateIp: `10.30.${base % 200}.${n}`, availabilityZone: n % 2 ? "eu-west-1a" : "eu-west-1b" }));
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
    [TYPES.launchTemplate]: (args) => ({ ...args.inputs, latestVersion: 1 }),
    [TYPES.group]: (args) => ({ ...args.inputs, name: `${args.name}-asg` }),
    [TYPES.groupInstances]: (args) => ({ ...args.inputs, instances: groupInstancesOf(String(args.inputs.groupName)), leaving: [], desiredCapacity: 3 }),
    [TYPES.scalingHold]: (args) => ({ ...args.inputs, held: [] }),
    [TYPES.scalingRelease]: (args) => ({ ...args.inputs, released: [] }),
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

/** `rawAwsConfig()` with an Auto Scaling group per generation (aws.autoScaling, 2 to 6), in eu-west-1. */
export function rawArrayConfig(changes: Record<string, unknown> = {}): Record<string, unknown> {
    const raw = rawAwsConfig();
    return { ...raw, aws: { ...(raw.aws as object), region: "eu-west-1", autoScaling: { minSize: 2, maxSize: 6 } }, ...changes };
}

/** Installs fresh strict mocks, then loads the modules under test, so that they load after `setMocks`. `failing`: a resource whose registration fails, as a failed create would. */
export async function loadUnderMocks(failing?: string) {
    const customs = failing
        ? Object.fromEntries(
              Object.entries(AWS_OUTPUTS).map(([type, outputs]) => [
                  type,
                  (args: pulumi.runtime.MockResourceArgs) => {
                      if (args.name === failing) throw new Error(`${failing} failed`);
                      return outputs(args);
                  },
              ]),
          )
        : AWS_OUTPUTS;
    const recorder = await useStrictMocks({ customs, components: COMPONENT_TYPES, stack: STACK });
    const { parseDeploymentConfig } = await import("../../../program/config");
    const { BlueGreenDeployment } = await import("../../../src/deployment");
    const { deploymentSettings, targetFor } = await import("../../../program/targets");
    return { recorder, parseDeploymentConfig, BlueGreenDeployment, deploymentSettings, targetFor };
}

/**
 * Builds the program of index.ts under fresh strict mocks and waits until every resource is registered.
 * @default history nothing remembered yet (a stack's first update)
 */
export async function buildAwsProgram(raw: Record<string, unknown>, history: GenerationHistory = {}) {
    const { recorder, parseDeploymentConfig, BlueGreenDeployment, deploymentSettings, targetFor } = await loadUnderMocks();
    const config = parseDeploymentConfig(raw);
    const ssh = sshSecret();
    const deployment = new BlueGreenDeployment("site", { ...deploymentSettings(config), target: targetFor(config, "site", ssh), ssh, history });
    await programDone(recorder);
    return { recorder, deployment };
}
