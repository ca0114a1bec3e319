/**
 * This repository's program, from stack config to component arguments: the deployment's settings and
 * the target named by the config (`local`, the default, or `aws`). The aws target is loaded only when
 * used: @pulumi/aws and @pulumi/command take a noticeable part of a local program's start.
 */
import * as pulumi from "@pulumi/pulumi";
import { rolloutInput, type DeploymentConfig } from "./config";
import { pinnedHostKey } from "../src/haproxy/runtime/knownHosts";
import type { SshCredentials } from "../src/haproxy/runtime/transport";
import { serverName } from "../src/names";
import { specForGeneration, type DeploymentSettings } from "../src/plan";
import type { Target } from "../src/targets/target";
import type { AwsDatabaseStore } from "../src/targets/aws/target";
import { localTarget } from "../src/targets/local/target";

/** The deployment's settings in the components' units (seconds to ms). Pure: exported for tests. */
export function deploymentSettings(config: DeploymentConfig): DeploymentSettings {
    const { pool, healthCheck: hc, haproxy } = config;
    const { drain } = haproxy;
    return {
        generation: config.generation,
        migrationVersion: config.database.migration.version,
        pool: { size: pool.size, namePrefix: pool.namePrefix, port: pool.port, canarySize: config.canarySize, spec: pool.spec, generations: pool.generations },
        healthCheck: { path: hc.path, expectedStatus: hc.expectedStatus, timeoutMs: hc.timeoutSeconds * 1000, intervalMs: hc.intervalMs, rise: hc.rise, fall: hc.fall },
        haproxy: {
            backend: haproxy.backend,
            attachTimeoutMs: haproxy.attachTimeoutSeconds * 1000,
            detachTimeoutMs: haproxy.detachTimeoutSeconds * 1000,
            drain: {
                method: drain.method,
                timeoutMs: drain.timeoutSeconds * 1000,
                onTimeout: drain.onTimeout,
                pollIntervalMs: drain.pollIntervalMs,
                quietPeriodMs: drain.quietPeriodSeconds * 1000,
                minimumMs: drain.minimumSeconds * 1000,
                tunnelGraceMs: drain.tunnelGraceSeconds * 1000,
            },
            serverOptions: haproxy.serverOptions,
            generations: haproxy.generations,
            runtimeOnly: haproxy.runtimeOnly,
            adopt: haproxy.adopt,
            ...(haproxy.rollout ? { rollout: rolloutInput(haproxy.rollout) } : {}),
        },
    };
}

/** The target the config names, built for the deployment `deploymentName`. */
export function targetFor(config: DeploymentConfig, deploymentName: string, ssh?: pulumi.Input<SshCredentials>): Target {
    if (config.target !== "aws") {
        return localTarget({ name: deploymentName, loadBalancers: config.haproxy.loadBalancers, database: config.database.port ? { port: config.database.port } : {} });
    }
    const { awsTarget } = require("../src/targets/aws/target") as typeof import("../src/targets/aws/target");
    const { aws, credentials } = requireAwsInputs(config, ssh);
    return awsTarget({
        loadBalancers: config.haproxy.loadBalancers.map((lb) => ({
            name: lb.name,
            endpoint: lb.endpoint as string,
            frontendUrl: lb.frontendUrl as string,
            ...(lb.sshHostKeySha256 ? { sshHostKeySha256: lb.sshHostKeySha256 } : {}),
        })),
        ...(config.haproxy.serversFile ? { serversFile: config.haproxy.serversFile } : {}),
        ...(config.haproxy.backendDefaults ? { backendDefaults: config.haproxy.backendDefaults } : {}),
        runtimeOnly: config.haproxy.runtimeOnly,
        network: { subnetIds: aws.subnetIds, securityGroupIds: aws.securityGroupIds, keyName: aws.keyName, instanceProfile: aws.instanceProfile },
        poolName: config.pool.namePrefix,
        ...(aws.autoScaling
            ? {
                  autoScaling: {
                      api: { region: aws.region as string },
                      minSize: aws.autoScaling.minSize,
                      maxSize: aws.autoScaling.maxSize,
                  },
              }
            : {}),
        database: {
            ...awsDatabaseStore(config.database),
            host: aws.databaseHost,
            user: aws.databaseUser,
            migrationCommand: config.database.migration.command as string[],
            ...(config.sshKnownHosts === undefined ? {} : optional("hostKey", pinnedHostKey(config.sshKnownHosts, aws.databaseHost))),
        },
        ssh: credentials,
    });
}

/** What the aws target snapshots: the EBS volume, or the RDS instance or cluster (the config check requires one). */
function awsDatabaseStore(db: DeploymentConfig["database"]): AwsDatabaseStore {
    if (db.kind === "rds") {
        return db.rds?.clusterIdentifier ? { kind: "rds", clusterIdentifier: db.rds.clusterIdentifier } : { kind: "rds", instanceIdentifier: db.rds?.instanceIdentifier as string };
    }
    return { kind: "ebs", volumeId: db.volume as string };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
    return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

/**
 * What the aws target needs beyond the config schema (which already requires the `aws` block, an EBS
 * volume id and the spec fields), checked at once before any resource is registered: SSH credentials
 * and the active generation's user data. Throws one error listing every problem.
 */
function requireAwsInputs(config: DeploymentConfig, ssh: pulumi.Input<SshCredentials> | undefined) {
    const { userDataProblems } = require("../src/targets/aws/userData") as typeof import("../src/targets/aws/userData");
    const problems: string[] = [];
    if (!ssh) problems.push("SSH credentials (sshPrivateKey) are required: the migration runs over SSH on aws.databaseHost");
    const { generation, pool } = config;
    const lastServer = serverName(pool.namePrefix, generation, pool.size - 1); // the longest name, for the size check
    problems.push(...userDataProblems({ spec: specForGeneration(pool, generation), port: pool.port, serverName: lastServer, generation }));
    if (!config.aws) problems.push("the `aws` config block is required on the aws target");
    if (!config.aws || !ssh || problems.length > 0) {
        throw new pulumi.RunError(`the aws target cannot be built:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    return { aws: config.aws, credentials: ssh };
}
