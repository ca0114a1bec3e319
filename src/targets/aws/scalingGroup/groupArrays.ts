/**
 * The server arrays of a deployment whose generations are Auto Scaling groups, however the groups are
 * made (the aws target's launch template and group, serverArrays.ts, or a team's own): per generation
 * `GroupInstances` finds the group's serving instances, which are the pool's servers
 * (`<prefix>-<generation>-<instance id>`); `ScalingHold` holds the other generations' groups still
 * (runbook step 10); `ScalingRelease` releases the new group (step 16). A group made elsewhere must carry
 * the owner tag (`bluegreen:pool` = `owner`) and its `Generation` tag, be created with the held processes
 * suspended (DEFAULTS.aws.autoScaling.heldProcesses) and protect its instances from scale-in.
 */
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../../../defaults";
import { arrayServerName, poolChildNames } from "../../../names";
import type { ServerArray, ServerArrayRequest, ServerArrays } from "../../target";
import type { AwsEndpoint } from "./awsEndpoint";
import { GroupInstances } from "./groupInstances";
import { ScalingHold } from "./scalingHold";
import { ScalingRelease } from "./scalingRelease";

export interface GroupArraysArgs {
    /** Where the plugin's own Auto Scaling and EC2 calls go. */
    api: AwsEndpoint;
    /** The owner tag's value of the deployment's groups. */
    owner: string;
    /** The serving group's bounds once released. */
    minSize: number;
    maxSize: number;
    /** The group of one generation: its name, and the resource that makes it, if any (for dependencies). */
    group(request: ServerArrayRequest, opts: pulumi.CustomResourceOptions): { name: pulumi.Output<string>; resource?: pulumi.Resource };
    /** How long and how often GroupInstances reads a group, in ms. @default DEFAULTS.aws.autoScaling (600 s, 5 s) */
    discovery?: { timeoutMs?: number; intervalMs?: number };
}

/** `ServerArrays` of Auto Scaling groups (see the file's comment). */
export function groupArrays(args: GroupArraysArgs): ServerArrays {
    const held = [...DEFAULTS.aws.autoScaling.heldProcesses];
    return {
        servers(request, opts): ServerArray {
            const group = args.group(request, opts);
            const found = new GroupInstances(
                poolChildNames(request.poolName).instances,
                { aws: args.api, groupName: group.name, ...args.discovery },
                { ...opts, ...(group.resource ? { dependsOn: [group.resource] } : {}) },
            );
            const { namePrefix, generation, port, healthCheckPath } = request;
            return {
                name: group.name,
                servers: found.instances.apply((instances) =>
                    instances.map((i) => ({
                        name: arrayServerName(namePrefix, generation, i.instanceId),
                        address: i.privateIp,
                        port,
                        healthUrl: `http://${i.privateIp}:${port}${healthCheckPath}`,
                    })),
                ),
                leaving: found.leaving,
                resource: found,
            };
        },

        hold: (resourceName, keepGenerations, opts) => new ScalingHold(resourceName, { aws: args.api, owner: args.owner, keepGenerations, processes: held }, opts),

        release: (resourceName, array, opts) =>
            new ScalingRelease(resourceName, { aws: args.api, groupName: array.name, processes: held, minSize: args.minSize, maxSize: args.maxSize, leaving: array.leaving }, opts),
    };
}
