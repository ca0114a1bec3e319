/**
 * The `aws` target (staging, prod): app servers are EC2 instances built from the generation's image
 * and user data, the database snapshot is an EBS snapshot of the database volume (a self-managed server)
 * or an RDS snapshot of the DB instance or Aurora cluster (`database.kind: rds`), and the migration runs
 * over SSH on the database host (with RDS: a host that reaches the database, e.g. with `psql`). The load balancers are existing HAProxy hosts: nothing is created for
 * them, the memberships reach them through their Runtime API endpoints.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../../defaults";
import type { SshCredentials } from "../../haproxy/runtime/transport";
import type { Target } from "../target";
import { required } from "./requiredSpec";
import { autoScalingArrays, type AutoScalingSettings } from "./scalingGroup/serverArrays";
import { shellCommandLine } from "./shellQuote";
import { renderUserData } from "./userData";

/**
 * What is snapshotted before a migration (runbook step 1): a self-managed server's EBS volume, an RDS DB
 * instance (`aws.rds.Snapshot`) or an Aurora cluster (`aws.rds.ClusterSnapshot`).
 */
export type AwsDatabaseStore = { kind: "ebs"; volumeId: string } | { kind: "rds"; instanceIdentifier: string } | { kind: "rds"; clusterIdentifier: string };

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
    /** `Pool` tag of the instances (and groups). @default "app" */
    poolName?: string;
    /**
     * An Auto Scaling group per generation instead of one instance per server (scalingGroup/serverArrays.ts,
     * runbook steps 10, 15 and 16). @default none: one EC2 instance per server
     */
    autoScaling?: AutoScalingSettings;
    /**
     * The database: what is snapshotted (an EBS volume or RDS), the host the migration runs on over SSH
     * (the database server itself, or a host that reaches RDS with `psql`), and the migration's argv.
     */
    database: AwsDatabaseStore & {
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

        ...(args.autoScaling
            ? { arrays: autoScalingArrays({ settings: args.autoScaling, network, poolName: args.poolName ?? DEFAULTS.pool.namePrefix, stack, project: pulumi.getProject() }) }
            : {}),

        // One EC2 instance per server, whatever the batch.
        servers: (batch, opts) => batch.servers.map((request) => {
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
                    tags: { Name: request.serverName, Pool: args.poolName ?? DEFAULTS.pool.namePrefix, Generation: request.generation, Stack: stack },
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
        }),

        snapshot: (resourceName, migrationVersion, opts) => {
            const tags = { Name: resourceName, Stack: stack, MigrationVersion: migrationVersion };
            if (database.kind === "ebs") return new aws.ebs.Snapshot(resourceName, { volumeId: database.volumeId, tags }, opts).id;
            // RDS snapshot identifiers: letters, digits and hyphens, starting with a letter, unique per account and region.
            const identifier = rdsSnapshotIdentifier(stack, resourceName);
            if ("clusterIdentifier" in database) {
                return new aws.rds.ClusterSnapshot(resourceName, { dbClusterIdentifier: database.clusterIdentifier, dbClusterSnapshotIdentifier: identifier, tags }, opts).id;
            }
            return new aws.rds.Snapshot(resourceName, { dbInstanceIdentifier: database.instanceIdentifier, dbSnapshotIdentifier: identifier, tags }, opts).id;
        },

        // The host key is pinned when given (`keytype base64key`, the form `hostKey` takes); without one the
        // connection does not verify it (the program's config check requires sshAllowUnknownHostKeys then).
        migration: (resourceName, migrationVersion, opts) =>
            new command.remote.Command(
                resourceName,
                {
                    connection: pulumi.secret(
                        pulumi.output(args.ssh).apply((c) => ({
                            host: database.host,
                            user: database.user ?? DEFAULTS.aws.databaseUser,
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

/**
 * The RDS snapshot identifier of the snapshot resource `resourceName` of `stack`: 1 to 255 letters,
 * digits and hyphens, starting with a letter, no two hyphens in a row, not ending with one. Exported for tests.
 */
export function rdsSnapshotIdentifier(stack: string, resourceName: string): string {
    const id = `bluegreen-${stack}-${resourceName}`
        .replace(/[^A-Za-z0-9-]+/g, "-")
        .replace(/-{2,}/g, "-")
        .slice(0, 255)
        .replace(/-+$/, "");
    return id;
}

/** Where the servers file of `backend` lives on the load balancer hosts when none is given. */
export function defaultServersFile(backend: string): string {
    return `/etc/haproxy/bluegreen/${backend}.cfg`;
}
