/**
 * The aws target's server arrays (`autoScaling`, runbook steps 10, 15 and 16). Per generation:
 * - a launch template from the generation's frozen spec (step 15), IMDSv2 required;
 * - an Auto Scaling group held at the pool's size for the flip: created with minimum = maximum =
 *   desired = size, waiting (`waitForCapacityTimeout`) until its instances are InService and healthy,
 *   then every held process suspended; its instances protected from scale-in, so that a scale-in
 *   terminates nothing until a `pulumi up` drained the instances beyond its desired capacity
 *   (GroupInstances, ScalingRelease); deleted with `forceDelete` (its instances were drained and
 *   detached by its membership before);
 * - `GroupInstances`, which finds its serving instances, the pool's servers.
 * After creation the group's bounds, desired capacity and suspended processes belong to its release
 * (step 16), its scaling policies and its operators (`ignoreChanges`): `pulumi up` never resets them.
 * The other generations' groups are held still by `ScalingHold` (step 10) before the new one attaches.
 */
import * as aws from "@pulumi/aws";
import { DEFAULTS } from "../../../defaults";
import { arrayServerName, poolChildNames } from "../../../names";
import type { ServerArray, ServerArrayRequest, ServerArrays } from "../../target";
import { required } from "../requiredSpec";
import { renderUserData } from "../userData";
import type { AwsEndpoint } from "./awsEndpoint";
import { GroupInstances } from "./groupInstances";
import { ScalingHold } from "./scalingHold";
import { ScalingRelease } from "./scalingRelease";

/** The aws target's `autoScaling` setting: an Auto Scaling group per generation. */
export interface AutoScalingSettings {
    /** Where the plugin's own Auto Scaling and EC2 calls go (the region of the groups). */
    api: AwsEndpoint;
    /** The serving group's bounds once released (step 16); the pool's size must lie within them. */
    minSize: number;
    maxSize: number;
}

/** What the arrays need of the aws target besides `autoScaling`. */
export interface ServerArraysArgs {
    settings: AutoScalingSettings;
    network: { subnetIds: string[]; securityGroupIds?: string[]; keyName?: string; instanceProfile?: string };
    /** The `Pool` tag and the owner tag's last part. */
    poolName: string;
    stack: string;
    project: string;
}

/** The owner tag's value of a deployment's groups: `<project>/<stack>/<poolName>`. */
export function groupOwner(project: string, stack: string, poolName: string): string {
    return `${project}/${stack}/${poolName}`;
}

/** The aws target's `ServerArrays` (see the file's comment). */
export function autoScalingArrays(args: ServerArraysArgs): ServerArrays {
    const { settings, network, poolName, stack } = args;
    const scaling = DEFAULTS.aws.autoScaling;
    const owner = groupOwner(args.project, stack, poolName);
    const held = [...scaling.heldProcesses];
    return {
        servers(request: ServerArrayRequest, opts): ServerArray {
            const names = poolChildNames(request.poolName);
            const { generation, port } = request;
            const prefix = `${request.namePrefix}-${generation}`;
            const tags = { Name: prefix, Pool: poolName, Generation: generation, Stack: stack };
            const template = new aws.ec2.LaunchTemplate(
                names.launchTemplate,
                {
                    imageId: required(request.spec.image, "spec.image"),
                    instanceType: required(request.spec.instanceType, "spec.instanceType"),
                    userData: Buffer.from(renderUserData({ spec: request.spec, port, serverName: { prefix }, generation })).toString("base64"),
                    vpcSecurityGroupIds: network.securityGroupIds ?? [],
                    keyName: network.keyName,
                    ...(network.instanceProfile ? { iamInstanceProfile: { name: network.instanceProfile } } : {}),
                    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" },
                    tags,
                },
                opts,
            );
            const group = new aws.autoscaling.Group(
                names.group,
                {
                    launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
                    vpcZoneIdentifiers: network.subnetIds,
                    minSize: request.size,
                    maxSize: request.size,
                    desiredCapacity: request.size,
                    waitForCapacityTimeout: `${scaling.discoveryTimeoutMs / 1000}s`,
                    suspendedProcesses: held,
                    forceDelete: true,
                    protectFromScaleIn: true,
                    tags: [
                        ...Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
                        { key: scaling.ownerTagKey, value: owner, propagateAtLaunch: false },
                    ],
                },
                { ...opts, dependsOn: [template], ignoreChanges: ["minSize", "maxSize", "desiredCapacity", "suspendedProcesses"] },
            );
            const found = new GroupInstances(names.instances, { aws: settings.api, groupName: group.name }, { ...opts, dependsOn: [group] });
            return {
                name: group.name,
                servers: found.instances.apply((instances) =>
                    instances.map((i) => ({
                        name: arrayServerName(request.namePrefix, generation, i.instanceId),
                        address: i.privateIp,
                        port,
                        healthUrl: `http://${i.privateIp}:${port}${request.healthCheckPath}`,
                    })),
                ),
                leaving: found.leaving,
                resource: found,
            };
        },

        hold: (resourceName, keepGenerations, opts) => new ScalingHold(resourceName, { aws: settings.api, owner, keepGenerations, processes: held }, opts),

        release: (resourceName, array, opts) =>
            new ScalingRelease(
                resourceName,
                {
                    aws: settings.api,
                    groupName: array.name,
                    processes: held,
                    minSize: settings.minSize,
                    maxSize: settings.maxSize,
                    leaving: array.leaving,
                },
                opts,
            ),
    };
}
