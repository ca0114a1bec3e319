/**
 * The ScalingHold provider (scalingHold.ts): its create holds the pool's groups but the kept generations
 * (processHold.ts), recording itself by its id (`hold-<uuid>`, unique to this resource) on each; any input
 * change replaces it, the old hold released first; its check (of a hold not created yet) and a replacing
 * diff name the groups it will hold; its delete resumes, on each group it held, what the group's record
 * still says it owns.
 */
import type * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "node:crypto";
import { RuntimeInputError } from "../../../haproxy/runtime/validate";
import { checkWith } from "../../../provider/checkInputs";
import { progress } from "../../../provider/providerLog";
import { containsUnknown } from "../../../provider/previewValues";
import type { AwsEndpoint } from "./awsEndpoint";
import { autoScalingApi, validateEndpoint, validateProcesses, validateTag } from "./autoScalingApi";
import { holdGroups, releaseHold, selectedGroups, type HeldGroup } from "./processHold";

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

/**
 * Names the groups a hold about to be created (each flip's new hold, checked before its create, in
 * `pulumi preview` too) or replaced will hold, as they are now. Never fails the check or the diff: a
 * group read that fails is said instead.
 */
async function nameGroupsToHold(news: Record<string, unknown>): Promise<void> {
    try {
        const spec = validate(news);
        const groups = (await selectedGroups(autoScalingApi(spec.aws), spec)).map((g) => g.groupName);
        const kept = `(owner ${spec.owner}, generations kept: ${spec.keepGenerations.join(", ") || "none"})`;
        progress(
            groups.length === 0
                ? `scaling hold ${kept}: holds no group`
                : `scaling hold ${kept}: holds ${groups.join(", ")}: suspends ${spec.processes.join(", ")} until the hold is replaced or deleted`,
        );
    } catch (err) {
        progress(`scaling hold: could not read the groups it will hold: ${(err as Error).message}`);
    }
}

const checkInputs = checkWith(validate);

const provider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        const checked = await checkInputs(olds, news);
        const creating = Object.keys(olds).length === 0;
        if (creating && (checked.failures ?? []).length === 0 && !containsUnknown(news)) await nameGroupsToHold(news);
        return checked;
    },

    async diff(_id, olds, news) {
        const replaces = INPUTS.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        if (replaces.length > 0 && !containsUnknown(news)) await nameGroupsToHold(news);
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
