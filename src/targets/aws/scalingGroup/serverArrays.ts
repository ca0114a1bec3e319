/**
 * The aws target's server arrays (`autoScaling`, runbook steps 10, 15 and 16). Per generation:
 * - a launch template from the generation's frozen spec (step 15), IMDSv2 required;
 * - an Auto Scaling group held at the pool's size for the flip: created with minimum = maximum =
 *   desired = size, waiting (`waitForCapacityTimeout`) until its instances are InService and healthy,
 *   then every held process suspended; its instances protected from scale-in, so that a scale-in
 *   terminates nothing until a `pulumi up` drained the instances beyond its desired capacity
 *   (GroupInstances, ScalingRelease); deleted with `forceDelete` (its instances were drained and
 *   detached by its membership before);
 * - the rest is `groupArrays` (groupArrays.ts): finding its instances, holding the other generations'
 *   groups (step 10), releasing the new one (step 16).
 * After creation the group's bounds, desired capacity and suspended processes belong to its release
 * (step 16), its scaling policies and its operators (`ignoreChanges`): `pulumi up` never resets them.
 */
import * as aws from "@pulumi/aws";
import { DEFAULTS } from "../../../defaults";
import { poolChildNames } from "../../../names";
import type { ServerArrayRequest, ServerArrays } from "../../target";
import { required } from "../requiredSpec";
import { renderUserData } from "../userData";
import type { AwsEndpoint } from "./awsEndpoint";
import { groupArrays } from "./groupArrays";

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
    return groupArrays({
        api: settings.api,
        owner,
        minSize: settings.minSize,
        maxSize: settings.maxSize,
        group(request: ServerArrayRequest, opts) {
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
                    suspendedProcesses: [...scaling.heldProcesses],
                    forceDelete: true,
                    protectFromScaleIn: true,
                    tags: [
                        ...Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
                        { key: scaling.ownerTagKey, value: owner, propagateAtLaunch: false },
                    ],
                },
                { ...opts, dependsOn: [template], ignoreChanges: ["minSize", "maxSize", "desiredCapacity", "suspendedProcesses"] },
            );
            return { name: group.name, resource: group };
        },
    });
}
