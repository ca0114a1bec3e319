/**
 * The GroupInstances provider (groupInstances.ts): its create and update wait until the group's serving
 * instances are as many as its desired capacity; its diff reads the group once (no waiting, in
 * `pulumi preview` too) and reports a change when the serving instances or the leaving ones differ from
 * the state's. A new group name replaces it. Its delete does nothing: it only observed the group.
 */
import type * as pulumi from "@pulumi/pulumi";
import { validateInteger } from "../../../haproxy/runtime/validate";
import { checkWith } from "../../../provider/checkInputs";
import { progress } from "../../../provider/providerLog";
import { containsUnknown } from "../../../provider/previewValues";
import type { AwsEndpoint } from "./awsEndpoint";
import { autoScalingApi, validateEndpoint, validateGroupName } from "./autoScalingApi";
import { readGroupInstances, waitForGroupInstances } from "./discovery";
import type { GroupInstance } from "./groupInstances";

export interface ResolvedInputs {
    aws: AwsEndpoint;
    groupName: string;
    timeoutMs: number;
    intervalMs: number;
}

export interface ResolvedOutputs extends ResolvedInputs {
    instances: GroupInstance[];
    leaving: string[];
    desiredCapacity: number;
}

/** Validates the inputs; a bad one is a RuntimeInputError naming it. Exported for tests. */
export function validate(inputs: Record<string, unknown>): ResolvedInputs {
    return {
        aws: validateEndpoint("aws", inputs.aws),
        groupName: validateGroupName("groupName", inputs.groupName),
        timeoutMs: validateInteger("timeoutMs", inputs.timeoutMs, 1, 86_400_000),
        intervalMs: validateInteger("intervalMs", inputs.intervalMs, 10, 600_000),
    };
}

/**
 * What a read changes against the state: instances that serve now and did not, instances that served and
 * do not (ended, replaced), and instances newly leaving. Leaving instances that are gone (ScalingRelease
 * ended them) are no change. Exported for tests.
 */
export function instanceChanges(olds: Pick<ResolvedOutputs, "instances" | "leaving">, now: Pick<ResolvedOutputs, "instances" | "leaving">): string[] {
    const key = (i: GroupInstance) => `${i.instanceId} (${i.privateIp})`;
    const before = new Set((olds.instances ?? []).map(key));
    const after = new Set(now.instances.map(key));
    const wasLeaving = new Set(olds.leaving ?? []);
    return [
        ...[...after].filter((i) => !before.has(i)).map((i) => `${i} serves`),
        ...[...before].filter((i) => !after.has(i) && !now.leaving.includes(i.split(" ")[0])).map((i) => `${i} no longer serves`),
        ...now.leaving.filter((id) => !wasLeaving.has(id)).map((id) => `${id} is beyond the desired capacity: to drain, then terminate`),
    ];
}

async function discover(inputs: Record<string, unknown>): Promise<ResolvedOutputs> {
    const spec = validate(inputs);
    const reading = await waitForGroupInstances(autoScalingApi(spec.aws), spec.groupName, spec);
    const leaving = reading.leaving.length > 0 ? `; leaving: ${reading.leaving.join(", ")}` : "";
    progress(`group ${spec.groupName}: ${reading.instances.map((i) => `${i.instanceId} (${i.privateIp})`).join(", ") || "no instance"} serve${leaving}`);
    return { ...inputs, ...spec, instances: reading.instances, leaving: reading.leaving, desiredCapacity: reading.desiredCapacity } satisfies ResolvedOutputs;
}

const provider: pulumi.dynamic.ResourceProvider = {
    check: checkWith(validate),

    async diff(_id, olds, news) {
        if (containsUnknown(news.groupName) || olds.groupName !== news.groupName) return { changes: true, replaces: ["groupName"] };
        const tunables = ["aws", "timeoutMs", "intervalMs"].filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        if (containsUnknown(news) || tunables.length > 0) return { changes: true };
        const spec = validate(news);
        const reading = await readGroupInstances(autoScalingApi(spec.aws), spec.groupName);
        if (!reading) {
            progress(`group ${spec.groupName} does not exist: its instances are read again`);
            return { changes: true };
        }
        const changes = instanceChanges(olds as ResolvedOutputs, reading);
        if (changes.length > 0) progress(`group ${spec.groupName} changed since the last update:\n  ${changes.join("\n  ")}`);
        return { changes: changes.length > 0 };
    },

    async create(inputs) {
        const outs = await discover(inputs);
        return { id: outs.groupName, outs };
    },

    async update(_id, _olds, news) {
        return { outs: await discover(news) };
    },

    async read(id, props) {
        const spec = validate(props as Record<string, unknown>);
        const reading = await readGroupInstances(autoScalingApi(spec.aws), spec.groupName);
        if (!reading) return {};
        const outs = { ...props, instances: reading.instances, leaving: reading.leaving, desiredCapacity: reading.desiredCapacity };
        return { id, props: outs, inputs: { aws: props.aws, groupName: props.groupName, timeoutMs: props.timeoutMs, intervalMs: props.intervalMs } };
    },

    async delete() {
        // Nothing to undo: it only read the group.
    },
};

export default provider;
