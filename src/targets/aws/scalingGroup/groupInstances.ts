/**
 * `GroupInstances`: the instances of one Auto Scaling group that serve, as a resource (runbook steps 7
 * and 11 for a server array). Its create waits until the group has at least its desired capacity of
 * InService, healthy, running instances, and lists them sorted by instance id, without pending or
 * terminated instances. The group's instances are protected from scale-in, so after a scale-in it has
 * more than its desired capacity: the ones beyond it are `leaving` (from the zone with the most
 * instances, the most recently launched first), to be drained and then terminated (ScalingRelease).
 * Its diff reads the group again (in `pulumi preview` too): an instance the group added, or one that
 * is leaving, is a change, so the next `pulumi up` attaches and drains them.
 * Type token: `pulumi-nodejs:dynamic/aws:GroupInstances`.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../../../defaults";
import { ProjectDynamicResource } from "../../../provider/providerShim";
import type { AwsEndpoint } from "./awsEndpoint";

/** One serving instance of a group. */
export interface GroupInstance {
    instanceId: string;
    privateIp: string;
    availabilityZone: string;
}

export interface GroupInstancesArgs {
    aws: pulumi.Input<AwsEndpoint>;
    /** The group's name. */
    groupName: pulumi.Input<string>;
    /** Longest wait for the instances, in ms. @default DEFAULTS.aws.autoScaling.discoveryTimeoutMs (600 s) */
    timeoutMs?: pulumi.Input<number>;
    /** Pause between two reads, in ms. @default DEFAULTS.aws.autoScaling.discoveryIntervalMs (5 s) */
    intervalMs?: pulumi.Input<number>;
}

export class GroupInstances extends ProjectDynamicResource {
    /** The serving instances, sorted by instance id. */
    declare readonly instances: pulumi.Output<GroupInstance[]>;
    /** Instances beyond the group's desired capacity, to drain and then terminate, sorted. */
    declare readonly leaving: pulumi.Output<string[]>;
    /** The group's desired capacity when the instances were read. */
    declare readonly desiredCapacity: pulumi.Output<number>;

    constructor(name: string, args: GroupInstancesArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "awsGroupInstances",
            "aws",
            "GroupInstances",
            name,
            {
                aws: args.aws,
                groupName: args.groupName,
                timeoutMs: args.timeoutMs ?? DEFAULTS.aws.autoScaling.discoveryTimeoutMs,
                intervalMs: args.intervalMs ?? DEFAULTS.aws.autoScaling.discoveryIntervalMs,
                instances: undefined,
                leaving: undefined,
                desiredCapacity: undefined,
            },
            opts,
        );
    }
}
