/**
 * `ScalingRelease` (runbook step 16): once the new generation serves, its Auto Scaling group gets its
 * scaling processes and its bounds back: the processes it was created with suspended are resumed, and
 * its minimum and maximum size become the configured ones (its desired capacity stays). Between flips it
 * also ends the instances a scale-in left over: the group's instances are protected from scale-in, so a
 * lower desired capacity terminates nothing until a `pulumi up`; GroupInstances names the instances
 * beyond it (`leaving`), their membership drains and detaches them (this resource depends on the smoke
 * check, after the membership), then this terminates them in the group without changing its desired
 * capacity, only those still in the group. Its delete changes nothing (the group goes with its own
 * resource).
 * Type token: `pulumi-nodejs:dynamic/aws:ScalingRelease`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource } from "../../../provider/providerShim";
import type { AwsEndpoint } from "./awsEndpoint";

export interface ScalingReleaseArgs {
    aws: pulumi.Input<AwsEndpoint>;
    groupName: pulumi.Input<string>;
    /** The processes the group was created with suspended, resumed once. */
    processes: pulumi.Input<string[]>;
    minSize: pulumi.Input<number>;
    maxSize: pulumi.Input<number>;
    /** Instances beyond the group's desired capacity that the membership drained (GroupInstances' `leaving`). */
    leaving: pulumi.Input<string[]>;
}

export class ScalingRelease extends ProjectDynamicResource {
    /** Instances this resource terminated, last time. */
    declare readonly released: pulumi.Output<string[]>;

    constructor(name: string, args: ScalingReleaseArgs, opts?: pulumi.CustomResourceOptions) {
        super("awsScalingRelease", "aws", "ScalingRelease", name, { ...args, released: undefined }, opts);
    }
}
