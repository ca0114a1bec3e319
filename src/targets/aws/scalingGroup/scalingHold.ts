/**
 * `ScalingHold` (runbook step 10): holds the deployment's other generations' Auto Scaling groups still
 * while the site changes: their scaling processes (DEFAULTS.aws.autoScaling.heldProcesses) are
 * suspended, so they launch, terminate and replace nothing while the new generation attaches and the
 * old one drains. The running instances keep serving.
 *
 * Ownership is recorded on each group, never assumed from a name: a group is held only if its owner tag
 * (`bluegreen:pool`) names this deployment's pool, and the hold writes itself and the processes it
 * suspended (those not already suspended by someone else) into the group's `bluegreen:held-by` tag. A
 * later hold that finds a group held by another hold takes the record over. Its delete resumes only what
 * its record on a group still says it suspended, on groups that still exist. Type token:
 * `pulumi-nodejs:dynamic/aws:ScalingHold`.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../../../defaults";
import { ProjectDynamicResource } from "../../../provider/providerShim";
import type { AwsEndpoint } from "./awsEndpoint";

export interface ScalingHoldArgs {
    aws: pulumi.Input<AwsEndpoint>;
    /** The owner tag's value of the deployment's groups (`<project>/<stack>/<poolName>`). */
    owner: pulumi.Input<string>;
    /** Generations (the groups' `Generation` tag) not held: the new one and a warm standby. */
    keepGenerations: pulumi.Input<string[]>;
    /** @default DEFAULTS.aws.autoScaling.heldProcesses */
    processes?: pulumi.Input<string[]>;
}

export class ScalingHold extends ProjectDynamicResource {
    /** The groups this hold suspended processes on, and which processes. */
    declare readonly held: pulumi.Output<{ groupName: string; processes: string[] }[]>;

    constructor(name: string, args: ScalingHoldArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "awsScalingHold",
            "aws",
            "ScalingHold",
            name,
            { aws: args.aws, owner: args.owner, keepGenerations: args.keepGenerations, processes: args.processes ?? [...DEFAULTS.aws.autoScaling.heldProcesses], held: undefined },
            opts,
        );
    }
}
