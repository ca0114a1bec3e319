/**
 * The `aws` target (staging, prod): app servers are EC2 instances built from the generation's image
 * and user data, the database snapshot is an EBS snapshot of the database volume, and the migration runs
 * over SSH on the database host. The load balancers are existing HAProxy hosts: nothing is created for
 * them, the memberships reach them through their Runtime API endpoints.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { specForGeneration, type DeploymentConfig } from "../../config";
import { pinnedHostKey } from "../../haproxy/knownHosts";
import type { SshCredentials } from "../../haproxy/transport";
import { serverName } from "../../pool";
import type { TargetFactory } from "../../target";
import { shellCommandLine } from "./shellQuote";
import { renderUserData, userDataProblems } from "./userData";

/**
 * Builds the aws target. What it needs beyond the config schema is checked first (`requireAwsInputs`),
 * so a problem stops the program before any resource is registered. `ssh` is required.
 */
export const awsTarget: TargetFactory = (config, _deploymentName, ssh) => {
    const { settings, credentials } = requireAwsInputs(config, ssh);
    const databaseHostKey = config.sshKnownHosts === undefined ? undefined : pinnedHostKey(config.sshKnownHosts, settings.databaseHost);
    const stack = pulumi.getStack();
    const { port } = config.pool;

    return {
        loadBalancers: () =>
            config.haproxy.loadBalancers.map((lb) => ({
                name: lb.name,
                endpoint: pulumi.output(required(lb.endpoint, `haproxy.loadBalancers.${lb.name}.endpoint`)),
                frontendUrl: pulumi.output(required(lb.frontendUrl, `haproxy.loadBalancers.${lb.name}.frontendUrl`)),
                ...(lb.sshHostKeySha256 ? { hostKeySha256: pulumi.output(lb.sshHostKeySha256) } : {}),
                ...(config.haproxy.runtimeOnly ? {} : { serversFile: pulumi.output(config.haproxy.serversFile ?? defaultServersFile(config.haproxy.backend)) }),
                ...(config.haproxy.backendDefaults ? { backendDefaults: pulumi.output(config.haproxy.backendDefaults) } : {}),
            })),

        server: (request, opts) => {
            const instance = new aws.ec2.Instance(
                request.resourceName,
                {
                    ami: required(request.spec.image, "pool.spec.image"),
                    instanceType: required(request.spec.instanceType, "pool.spec.instanceType"),
                    subnetId: settings.subnetIds[request.index % settings.subnetIds.length],
                    vpcSecurityGroupIds: settings.securityGroupIds,
                    keyName: settings.keyName,
                    iamInstanceProfile: settings.instanceProfile,
                    userData: renderUserData({ spec: request.spec, port, serverName: request.serverName, generation: request.generation }),
                    userDataReplaceOnChange: true,
                    tags: { Name: request.serverName, Pool: config.pool.namePrefix, Generation: request.generation, Stack: stack },
                },
                opts,
            );
            return {
                name: request.serverName,
                address: instance.privateIp,
                port: pulumi.output(port),
                healthUrl: pulumi.interpolate`http://${instance.privateIp}:${port}${config.healthCheck.path}`,
                resource: instance,
            };
        },

        snapshot: (resourceName, opts) =>
            new aws.ebs.Snapshot(
                resourceName,
                {
                    volumeId: config.database.volume,
                    tags: { Name: resourceName, Stack: stack, MigrationVersion: config.database.migration.version },
                },
                opts,
            ).id,

        // The host key is pinned from the sshKnownHosts line of the database host (`keytype base64key`,
        // the form `hostKey` takes); without one (sshAllowUnknownHostKeys, which the config check
        // requires then) the connection does not verify it.
        migration: (resourceName, opts) =>
            new command.remote.Command(
                resourceName,
                {
                    connection: pulumi.secret(
                        pulumi.output(credentials).apply((c) => ({
                            host: settings.databaseHost,
                            user: settings.databaseUser,
                            privateKey: c.privateKey,
                            privateKeyPassword: c.passphrase,
                            ...(databaseHostKey ? { hostKey: databaseHostKey } : {}),
                        })),
                    ),
                    create: shellCommandLine(config.database.migration.command),
                    triggers: [config.database.migration.version],
                },
                opts,
            ),
    };
};

/**
 * What the aws target needs beyond the config schema (which already requires the `aws` block, an EBS
 * volume id and the spec fields), checked at once: SSH credentials and the active generation's user
 * data. Throws one error listing every problem.
 */
function requireAwsInputs(config: DeploymentConfig, ssh: pulumi.Input<SshCredentials> | undefined) {
    const problems: string[] = [];
    if (!ssh) problems.push("SSH credentials (sshPrivateKey) are required: the migration runs over SSH on aws.databaseHost");
    const { generation, pool } = config;
    const lastServer = serverName(pool.namePrefix, generation, pool.size - 1); // the longest name, for the size check
    problems.push(...userDataProblems({ spec: specForGeneration(config, generation), port: pool.port, serverName: lastServer, generation }));
    if (!config.aws) problems.push("the `aws` config block is required on the aws target");
    if (!config.aws || !ssh || problems.length > 0) {
        throw new pulumi.RunError(`the aws target cannot be built:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    return { settings: config.aws, credentials: ssh };
}

/** A value the config schema guarantees on the aws target; a missing one is a bug, reported by key. */
function required(value: string | undefined, key: string): string {
    if (value === undefined) throw new Error(`${key} is required on the aws target`);
    return value;
}

/** Where the servers file of `backend` lives on the load balancer hosts when `haproxy.serversFile` is not set. */
export function defaultServersFile(backend: string): string {
    return `/etc/haproxy/bluegreen/${backend}.cfg`;
}
