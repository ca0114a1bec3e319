/**
 * The ScalingHold provider (scalingHold.ts): its create holds the pool's groups but the kept generations
 * (processHold.ts), recording itself by its id (`hold-<uuid>`, unique to this resource) on each; any input
 * change replaces it, the old hold released first; its delete resumes, on each group it held, what the
 * group's record still says it owns.
 */
import type * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "node:crypto";
import { RuntimeInputError } from "../../../haproxy/runtime/validate";
import { checkWith } from "../../../provider/checkInputs";
import type { AwsEndpoint } from "./awsEndpoint";
import { autoScalingApi, validateEndpoint, validateProcesses, validateTag } from "./autoScalingApi";
import { holdGroups, releaseHold, type HeldGroup } from "./processHold";

export interface ResolvedInputs {
    aws: AwsEndpoint;
    owner: string;
    keepGenerations: string[];
    processes: string[];
}

export interface ResolvedOutputs extends ResolvedInputs {
    held: HeldGroup[];
}

/** Validates the inputs; a bad one is a RuntimeInputError naming it. Exported for tests. */
export function validate(inputs: Record<string, unknown>): ResolvedInputs {
    const owner = inputs.owner;
    if (typeof owner !== "string" || owner === "") throw new RuntimeInputError("owner", owner, "the owner tag's value, `<project>/<stack>/<poolName>`");
    validateTag("owner", "owner", owner);
    const keep = inputs.keepGenerations;
    if (!Array.isArray(keep) || keep.some((g) => typeof g !== "string" || g === "")) throw new RuntimeInputError("keepGenerations", keep, "a list of generation labels");
    const processes = validateProcesses("processes", inputs.processes);
    if (processes.length === 0) throw new RuntimeInputError("processes", "", "at least one scaling process");
    return { aws: validateEndpoint("aws", inputs.aws), owner, keepGenerations: keep as string[], processes };
}

const INPUTS = ["aws", "owner", "keepGenerations", "processes"];

const provider: pulumi.dynamic.ResourceProvider = {
    check: checkWith(validate),

    async diff(_id, olds, news) {
        const replaces = INPUTS.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
    },

    async create(inputs) {
        const spec = validate(inputs);
        const id = `hold-${randomUUID()}`;
        const held = await holdGroups(autoScalingApi(spec.aws), spec, id, spec.processes);
        return { id, outs: { ...inputs, ...spec, held } satisfies ResolvedOutputs };
    },

    async delete(id, props) {
        const api = autoScalingApi(validateEndpoint("aws", props.aws));
        const failures: string[] = [];
        for (const { groupName } of (props.held ?? []) as HeldGroup[]) {
            try {
                await releaseHold(api, groupName, id);
            } catch (err) {
                failures.push((err as Error).message);
            }
        }
        if (failures.length > 0) throw new Error(`scaling hold ${id}: could not release ${failures.length} group(s):\n  ${failures.join("\n  ")}`);
    },
};

export default provider;
