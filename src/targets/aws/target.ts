/**
 * The `aws` target (staging, prod): app servers are EC2 instances built from the generation's image
 * and user data, the database snapshot is an EBS snapshot of the database volume, and the migration runs
 * over SSH on the database host. The load balancers are existing HAProxy hosts: nothing is created for
 * them, the memberships reach them through their Runtime API endpoints.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { SshCredentials } from "../../haproxy/runtime/transport";
import type { Target } from "../target";
import { shellCommandLine } from "./shellQuote";
import { renderUserData } from "./userData";

/** What the aws target works with. */
export interface AwsTargetArgs {
    /** The existing HAProxy hosts: Runtime API endpoint (`ssh://` or `tcp://`), frontend URL, host key. */
    loadBalancers: { name: string; endpoint: string; frontendUrl: string; sshHostKeySha256?: string }[];
    /** Servers file on the load balancer hosts (docs/OPERATING.md). @default `/etc/haproxy/bluegreen/<backend>.cfg` */
    serversFile?: string;
    /** The `defaults` section the servers file's backend takes its settings from. @default none */
    backendDefaults?: string;
    /** Servers only in the running HAProxy processes, no servers file. @default false */
    runtimeOnly?: boolean;
    /** Where the instances go. */
    network: { subnetIds: string[]; securityGroupIds?: string[]; keyName?: string; instanceProfile?: string };
    /** `Pool` tag of the instances. @default "app" */
    poolName?: string;
    /** The database: its EBS volume (snapshotted), the host the migration runs on over SSH, and the migration's argv. */
    database: {
        volumeId: string;
        host: string;
        /** @default "ops" */
        user?: string;
        migrationCommand: string[];
        /** The database host's key as `keytype base64key`, pinned by the SSH connection. @default none (unverified) */
        hostKey?: string;
    };
    /** Credentials of the migration's SSH connection (a Pulumi secret). */
    ssh: pulumi.Input<SshCredentials>;
}

/** The `aws` target (see the file's comment). */
export function awsTarget(args: AwsTargetArgs): Target {
    const stack = pulumi.getStack();
    const { network, database } = args;
    return {
        loadBalancers: (_parent, { backend }) =>
            args.loadBalancers.map((lb) => ({
                name: lb.name,
                endpoint: pulumi.output(lb.endpoint),
                frontendUrl: pulumi.output(lb.frontendUrl),
                ...(lb.sshHostKeySha256 ? { hostKeySha256: pulumi.output(lb.sshHostKeySha256) } : {}),
                ...(args.runtimeOnly ? {} : { serversFile: pulumi.output(args.serversFile ?? defaultServersFile(backend)) }),
                ...(args.backendDefaults ? { backendDefaults: pulumi.output(args.backendDefaults) } : {}),
            })),

        server: (request, opts) => {
            const { port } = request;
            const instance = new aws.ec2.Instance(
                request.resourceName,
                {
                    ami: required(request.spec.image, "spec.image"),
                    instanceType: required(request.spec.instanceType, "spec.instanceType"),
                    subnetId: network.subnetIds[request.index % network.subnetIds.length],
                    vpcSecurityGroupIds: network.securityGroupIds ?? [],
                    keyName: network.keyName,
                    iamInstanceProfile: network.instanceProfile,
                    userData: renderUserData({ spec: request.spec, port, serverName: request.serverName, generation: request.generation }),
                    userDataReplaceOnChange: true,
                    tags: { Name: request.serverName, Pool: args.poolName ?? "app", Generation: request.generation, Stack: stack },
                },
                opts,
            );
            return {
                name: request.serverName,
                address: instance.privateIp,
                port: pulumi.output(port),
                healthUrl: pulumi.interpolate`http://${instance.privateIp}:${port}${request.healthCheckPath}`,
                resource: instance,
            };
        },

        snapshot: (resourceName, migrationVersion, opts) =>
            new aws.ebs.Snapshot(resourceName, { volumeId: database.volumeId, tags: { Name: resourceName, Stack: stack, MigrationVersion: migrationVersion } }, opts).id,

        // The host key is pinned when given (`keytype base64key`, the form `hostKey` takes); without one the
        // connection does not verify it (the program's config check requires sshAllowUnknownHostKeys then).
        migration: (resourceName, migrationVersion, opts) =>
            new command.remote.Command(
                resourceName,
                {
                    connection: pulumi.secret(
                        pulumi.output(args.ssh).apply((c) => ({
                            host: database.host,
                            user: database.user ?? "ops",
                            privateKey: c.privateKey,
                            privateKeyPassword: c.passphrase,
                            ...(database.hostKey ? { hostKey: database.hostKey } : {}),
                        })),
                    ),
                    create: shellCommandLine(database.migrationCommand),
                    triggers: [migrationVersion],
                },
                opts,
            ),
    };
}

/** A value the aws target needs; the program's config check requires it, a missing one names the key. */
function required(value: string | undefined, key: string): string {
    if (value === undefined) throw new Error(`${key} is required on the aws target`);
    return value;
}

/** Where the servers file of `backend` lives on the load balancer hosts when none is given. */
export function defaultServersFile(backend: string): string {
    return `/etc/haproxy/bluegreen/${backend}.cfg`;
}
