/**
 * The ScalingRelease provider (scalingRelease.ts): its create resumes the processes the group was created
 * with suspended (those still suspended), sets the group's minimum and maximum size and terminates the
 * leaving instances, drained by then; its update applies changed bounds and terminates the leaving
 * instances it is given then. An instance is terminated only while the group still lists it (and not
 * already terminating), and the group's desired capacity is not changed. A new group name replaces it;
 * its delete changes nothing.
 */
import type * as pulumi from "@pulumi/pulumi";
import { RuntimeInputError } from "../../../haproxy/runtime/validate";
import { checkWith } from "../../../provider/checkInputs";
import { progress } from "../../../provider/providerLog";
import { containsUnknown } from "../../../provider/previewValues";
import type { AwsEndpoint } from "./awsEndpoint";
import { autoScalingApi, validateBounds, validateEndpoint, validateGroupName, validateInstanceId, validateProcesses, type AutoScalingApi } from "./autoScalingApi";

export interface ResolvedInputs {
    aws: AwsEndpoint;
    groupName: string;
    processes: string[];
    minSize: number;
    maxSize: number;
    leaving: string[];
}

export interface ResolvedOutputs extends ResolvedInputs {
    released: string[];
}

/** Validates the inputs; a bad one is a RuntimeInputError naming it. Exported for tests. */
export function validate(inputs: Record<string, unknown>): ResolvedInputs {
    validateBounds(inputs.minSize, inputs.maxSize);
    const leaving = inputs.leaving;
    if (!Array.isArray(leaving)) throw new RuntimeInputError("leaving", leaving, "a list of EC2 instance ids");
    return {
        aws: validateEndpoint("aws", inputs.aws),
        groupName: validateGroupName("groupName", inputs.groupName),
        processes: validateProcesses("processes", inputs.processes),
        minSize: inputs.minSize as number,
        maxSize: inputs.maxSize as number,
        leaving: leaving.map((id, i) => validateInstanceId(`leaving[${i}]`, id)),
    };
}

/** Terminates each of `spec.leaving` the group still lists (not already terminating); returns those. */
async function endLeaving(api: AutoScalingApi, spec: ResolvedInputs): Promise<string[]> {
    if (spec.leaving.length === 0) return [];
    const group = await api.describeGroup(spec.groupName);
    const listed = new Map((group?.instances ?? []).map((i) => [i.instanceId, i.lifecycleState]));
    const ended: string[] = [];
    for (const instanceId of spec.leaving) {
        const state = listed.get(instanceId);
        if (state === undefined || state.startsWith("Terminat")) {
            progress(`group ${spec.groupName}: ${instanceId} is ${state ?? "no longer in the group"}, left alone`);
            continue;
        }
        await api.terminateInGroup(spec.groupName, instanceId);
        ended.push(instanceId);
        progress(`group ${spec.groupName}: ${instanceId} drained and detached, terminated (desired capacity unchanged)`);
    }
    return ended;
}

/** Sets `spec`'s bounds on the group. */
async function setBounds(api: AutoScalingApi, spec: ResolvedInputs): Promise<void> {
    await api.updateBounds(spec.groupName, spec.minSize, spec.maxSize);
    progress(`group ${spec.groupName}: minimum size ${spec.minSize}, maximum size ${spec.maxSize}`);
}

const provider: pulumi.dynamic.ResourceProvider = {
    check: checkWith(validate),

    async diff(_id, olds, news) {
        if (containsUnknown(news.groupName) || olds.groupName !== news.groupName) return { changes: true, replaces: ["groupName"] };
        if (containsUnknown(news)) return { changes: true };
        const changed = ["aws", "minSize", "maxSize"].some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        // Instances that left are gone from the next reading: an empty list is no change.
        const newlyLeaving = (news.leaving as string[]).length > 0 && JSON.stringify(olds.leaving) !== JSON.stringify(news.leaving);
        return { changes: changed || newlyLeaving };
    },

    async create(inputs) {
        const spec = validate(inputs);
        const api = autoScalingApi(spec.aws);
        const group = await api.describeGroup(spec.groupName);
        if (!group) throw new Error(`Auto Scaling group ${spec.groupName} does not exist`);
        const resume = spec.processes.filter((p) => group.suspendedProcesses.includes(p));
        await api.resumeProcesses(spec.groupName, resume);
        progress(`group ${spec.groupName}: resumed ${resume.join(", ") || "nothing (none of its processes was suspended)"}`);
        await setBounds(api, spec);
        const released = await endLeaving(api, spec);
        return { id: spec.groupName, outs: { ...inputs, ...spec, released } satisfies ResolvedOutputs };
    },

    async update(_id, olds, news) {
        const spec = validate(news);
        const api = autoScalingApi(spec.aws);
        if (olds.minSize !== spec.minSize || olds.maxSize !== spec.maxSize) await setBounds(api, spec);
        const released = await endLeaving(api, spec);
        return { outs: { ...news, ...spec, released } satisfies ResolvedOutputs };
    },

    async delete() {
        // Nothing to undo: the group goes with its own resource.
    },
};

export default provider;
