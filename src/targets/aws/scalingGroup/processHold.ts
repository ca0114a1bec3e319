/**
 * Holding Auto Scaling groups still, with the ownership recorded on each group: its `bluegreen:held-by`
 * tag (DEFAULTS.aws.autoScaling.heldByTagKey) says which hold suspended which processes, as
 * `<holdId>:<Process,Process>`. A hold suspends only processes not suspended already (those stay whoever
 * suspended them), takes over another hold's record, and resumes only what the record says it owns.
 */
import { DEFAULTS } from "../../../defaults";
import { RuntimeInputError } from "../../../haproxy/runtime/validate";
import { progress } from "../../../provider/providerLog";
import { SCALING_PROCESSES, validateProcesses, type AutoScalingApi, type GroupDescription } from "./autoScalingApi";

/** What a held-by tag records. */
export interface HoldRecord {
    holdId: string;
    processes: string[];
}

/** The processes one hold owns on one group. */
export interface HeldGroup {
    groupName: string;
    processes: string[];
}

/** Longest tag value. */
const MAX_TAG_VALUE = 256;
const HOLD_ID = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

/** A hold id: 1 to 128 letters, digits, `.`, `_`, `/` or `-` (no `:`), starting with a letter or digit. */
export function validateHoldId(field: string, value: unknown): string {
    if (typeof value !== "string" || !HOLD_ID.test(value)) throw new RuntimeInputError(field, value, "1 to 128 letters, digits, '.', '_', '/' or '-', starting with a letter or digit");
    return value;
}

/** `processes` in the order of `SCALING_PROCESSES`, each once. */
const inOrder = (processes: Iterable<string>) => {
    const set = new Set(processes);
    return SCALING_PROCESSES.filter((p) => set.has(p));
};

/** The tag value of `record`; throws if it is longer than a tag value may be. */
export function formatHoldRecord(record: HoldRecord): string {
    validateHoldId("holdId", record.holdId);
    const value = `${record.holdId}:${inOrder(validateProcesses("processes", record.processes)).join(",")}`;
    if (value.length > MAX_TAG_VALUE) throw new RuntimeInputError("holdId", record.holdId, `a hold record of at most ${MAX_TAG_VALUE} characters`);
    return value;
}

/** The record in a held-by tag's `value`; throws naming `groupName` when it is not one. */
export function parseHoldRecord(groupName: string, value: string): HoldRecord {
    const colon = value.lastIndexOf(":");
    const holdId = value.slice(0, colon);
    const processes = value.slice(colon + 1) === "" ? [] : value.slice(colon + 1).split(",");
    try {
        if (colon < 0) throw new Error("no ':'");
        validateHoldId("holdId", holdId);
        validateProcesses("processes", processes);
    } catch (err) {
        throw new Error(
            `group ${groupName}: its ${DEFAULTS.aws.autoScaling.heldByTagKey} tag ${JSON.stringify(value)} is not a hold record <holdId>:<Process,...> (${(err as Error).message}); ` +
                `resume its processes and delete the tag by hand if no hold owns them`,
        );
    }
    return { holdId, processes };
}

/** Selection of the groups a hold holds. */
export interface HoldSelection {
    /** The owner tag's value. */
    owner: string;
    /** Generations (the `Generation` tag) left alone. */
    keepGenerations: string[];
}

/** Whether `group` is selected: owned by `owner`, its generation not kept. Pure; exported for tests. */
export function isSelected(group: GroupDescription, selection: HoldSelection): boolean {
    return group.tags[DEFAULTS.aws.autoScaling.ownerTagKey] === selection.owner && !selection.keepGenerations.includes(group.tags.Generation);
}

/**
 * What a hold owns on `group` once it holds `processes` there, and what it must suspend for that. Pure;
 * exported for tests. The group's record (another hold's, or this one's from an earlier try) is taken
 * over: its processes stay owned.
 */
export function holdPlan(group: GroupDescription, processes: string[]): { suspend: string[]; owned: string[] } {
    const tag = group.tags[DEFAULTS.aws.autoScaling.heldByTagKey];
    const recorded = tag === undefined ? [] : parseHoldRecord(group.groupName, tag).processes;
    const suspend = inOrder(processes.filter((p) => !group.suspendedProcesses.includes(p)));
    return { suspend, owned: inOrder([...recorded, ...suspend]) };
}

/** The selected groups as they are now; changes nothing (a preview names them). */
export async function selectedGroups(api: AutoScalingApi, selection: HoldSelection): Promise<GroupDescription[]> {
    return (await api.groupsTagged(DEFAULTS.aws.autoScaling.ownerTagKey, selection.owner)).filter((g) => isSelected(g, selection));
}

/** Holds every selected group: records the hold on it, then suspends what it must. Returns what it owns, by group name. */
export async function holdGroups(api: AutoScalingApi, selection: HoldSelection, holdId: string, processes: string[]): Promise<HeldGroup[]> {
    validateHoldId("holdId", holdId);
    validateProcesses("processes", processes);
    const held: HeldGroup[] = [];
    for (const group of await selectedGroups(api, selection)) {
        const { suspend, owned } = holdPlan(group, processes);
        // The record first: a suspension that fails after it leaves a record resuming a running process (harmless), never a suspended process without one.
        await api.putTag(group.groupName, DEFAULTS.aws.autoScaling.heldByTagKey, formatHoldRecord({ holdId, processes: owned }));
        await api.suspendProcesses(group.groupName, suspend);
        const before = group.suspendedProcesses.length > 0 ? ` (suspended before: ${group.suspendedProcesses.join(", ")})` : "";
        progress(`scaling hold ${holdId}: group ${group.groupName} suspended ${suspend.join(", ") || "nothing"}; holds ${owned.join(", ") || "nothing"}${before}`);
        held.push({ groupName: group.groupName, processes: owned });
    }
    return held;
}

/**
 * Resumes on `groupName` what `holdId`'s record there says it suspended (those still suspended), then
 * deletes the record. A group that no longer exists, or whose record names another hold (or none), is
 * left as it is. Returns the processes resumed.
 */
export async function releaseHold(api: AutoScalingApi, groupName: string, holdId: string): Promise<string[]> {
    const group = await api.describeGroup(groupName);
    if (!group) {
        progress(`scaling hold ${holdId}: group ${groupName} no longer exists, nothing to resume`);
        return [];
    }
    const tag = group.tags[DEFAULTS.aws.autoScaling.heldByTagKey];
    const record = tag === undefined ? undefined : parseHoldRecord(groupName, tag);
    if (record?.holdId !== holdId) {
        progress(`scaling hold ${holdId}: group ${groupName} is held by ${record ? record.holdId : "no hold"} now, left as it is`);
        return [];
    }
    const resume = record.processes.filter((p) => group.suspendedProcesses.includes(p));
    await api.resumeProcesses(groupName, resume);
    await api.deleteTag(groupName, DEFAULTS.aws.autoScaling.heldByTagKey);
    progress(`scaling hold ${holdId}: group ${groupName} resumed ${resume.join(", ") || "nothing"}`);
    return resume;
}
