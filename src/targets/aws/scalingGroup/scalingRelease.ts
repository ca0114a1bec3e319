/**
 * `ScalingRelease` (runbook step 16): once the new generation serves, its Auto Scaling group gets its
 * scaling processes and its bounds back: the processes it was created with suspended are resumed, and
 * its minimum and maximum size become the configured ones (its desired capacity stays). Between flips it
 * also lets instances the group is taking out go: once their membership drained them (the resource
 * depends on the smoke check, after the membership), their termination lifecycle actions are completed
 * with CONTINUE. Its delete changes nothing (the group goes with its own resource).
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
    /** Instances in `Terminating:Wait` that the membership drained (GroupInstances' `leaving`). */
    leaving: pulumi.Input<string[]>;
    /** The termination lifecycle hook holding them. */
    lifecycleHookName: pulumi.Input<string>;
}

export class ScalingRelease extends ProjectDynamicResource {
    /** Instances whose lifecycle action this resource completed, last time. */
    declare readonly released: pulumi.Output<string[]>;

    constructor(name: string, args: ScalingReleaseArgs, opts?: pulumi.CustomResourceOptions) {
        super("awsScalingRelease", "aws", "ScalingRelease", name, { ...args, released: undefined }, opts);
    }
}
