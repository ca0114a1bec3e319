/**
 * The plugin's own Auto Scaling and EC2 calls, one small typed function per call, through the AWS SDK v3
 * clients made from an `AwsEndpoint` (credentials: the SDK's default chain). Every name, instance id and
 * process is validated before it reaches the API (a `RuntimeInputError` naming the field); a failed call
 * is an error naming the call and the group, with the SDK's error name and message (never credentials).
 */
import {
    AutoScalingClient,
    CreateOrUpdateTagsCommand,
    DeleteTagsCommand,
    DescribeAutoScalingGroupsCommand,
    ResumeProcessesCommand,
    SuspendProcessesCommand,
    TerminateInstanceInAutoScalingGroupCommand,
    UpdateAutoScalingGroupCommand,
    type AutoScalingGroup,
} from "@aws-sdk/client-auto-scaling";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { RuntimeInputError } from "../../../haproxy/runtime/validate";
import type { AwsEndpoint } from "./awsEndpoint";

/** The scaling processes a group can suspend (Auto Scaling's documented list). */
export const SCALING_PROCESSES = ["Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance", "HealthCheck", "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions"] as const;

/** One instance as the group lists it. */
export interface GroupMember {
    instanceId: string;
    availabilityZone: string;
    /** e.g. `Pending`, `InService`, `Terminating:Wait`, `Standby`. */
    lifecycleState: string;
    /** `Healthy` or `Unhealthy`. */
    healthStatus: string;
    /** Whether a scale-in may not terminate it. */
    protectedFromScaleIn: boolean;
}

/** What DescribeAutoScalingGroups says of one group. */
export interface GroupDescription {
    groupName: string;
    desiredCapacity: number;
    minSize: number;
    maxSize: number;
    instances: GroupMember[];
    /** The names of its suspended processes. */
    suspendedProcesses: string[];
    /** Its tags, key to value. */
    tags: Record<string, string>;
}

/** What EC2 says of one instance. */
export interface Ec2Instance {
    instanceId: string;
    /** e.g. `pending`, `running`, `stopped`, `shutting-down`, `terminated`. */
    state: string;
    privateIp?: string;
    /** When it was launched, in ms since the epoch. @default unknown (0) */
    launchTime: number;
}

/** The calls the scaling-group providers make. */
export interface AutoScalingApi {
    /** The group, or undefined when there is none of that name. */
    describeGroup(groupName: string): Promise<GroupDescription | undefined>;
    /** Every group tagged `key` = `value`, sorted by name. */
    groupsTagged(key: string, value: string): Promise<GroupDescription[]>;
    suspendProcesses(groupName: string, processes: string[]): Promise<void>;
    resumeProcesses(groupName: string, processes: string[]): Promise<void>;
    /** Sets the group's minimum and maximum size (its desired capacity stays). */
    updateBounds(groupName: string, minSize: number, maxSize: number): Promise<void>;
    /** Creates or overwrites one tag of the group (not propagated to instances). */
    putTag(groupName: string, key: string, value: string): Promise<void>;
    deleteTag(groupName: string, key: string): Promise<void>;
    /**
     * Terminates `instanceId`, which the caller found in `groupName`, without changing the group's desired
     * capacity (TerminateInstanceInAutoScalingGroup; scale-in protection does not stop it).
     */
    terminateInGroup(groupName: string, instanceId: string): Promise<void>;
    /** What EC2 knows of `instanceIds`; ids it does not know (yet) are left out, never an error. */
    describeInstances(instanceIds: string[]): Promise<Ec2Instance[]>;
}

const GROUP_NAME = /^[\x21-\x39\x3b-\x7e]{1,255}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const TAG_KEY = /^[\x20-\x7e]{1,128}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** A group name: 1 to 255 printable ASCII characters but `:` (Auto Scaling's rule). */
export function validateGroupName(field: string, value: unknown): string {
    if (typeof value !== "string" || !GROUP_NAME.test(value)) throw new RuntimeInputError(field, value, "an Auto Scaling group name: 1 to 255 printable ASCII characters, no ':' or space");
    return value;
}

/** An EC2 instance id, `i-` and 8 to 17 lowercase hex digits. */
export function validateInstanceId(field: string, value: unknown): string {
    if (typeof value !== "string" || !INSTANCE_ID.test(value)) throw new RuntimeInputError(field, value, "an EC2 instance id (i- and 8 to 17 lowercase hex digits)");
    return value;
}

/** A list of distinct scaling processes from `SCALING_PROCESSES`. */
export function validateProcesses(field: string, value: unknown): string[] {
    const allowed = `a list of distinct scaling processes from ${SCALING_PROCESSES.join(", ")}`;
    if (!Array.isArray(value)) throw new RuntimeInputError(field, value, allowed);
    for (const [i, p] of value.entries()) {
        if (!(SCALING_PROCESSES as readonly unknown[]).includes(p)) throw new RuntimeInputError(`${field}[${i}]`, p, allowed);
    }
    if (new Set(value).size !== value.length) throw new RuntimeInputError(field, value.join(","), allowed);
    return value as string[];
}

/** A tag key (1 to 128 printable ASCII characters) and value (at most 256 of them). */
export function validateTag(field: string, key: unknown, value: unknown): void {
    if (typeof key !== "string" || !TAG_KEY.test(key)) throw new RuntimeInputError(`${field}.key`, key, "a tag key of 1 to 128 printable ASCII characters");
    if (typeof value !== "string" || !/^[\x20-\x7e]{0,256}$/.test(value)) throw new RuntimeInputError(`${field}.value`, value, "a tag value of at most 256 printable ASCII characters");
}

/** An `AwsEndpoint`: a region such as `eu-west-1` and, optionally, an http:// or https:// endpoint URL. */
export function validateEndpoint(field: string, value: unknown): AwsEndpoint {
    const aws = value as Partial<AwsEndpoint> | undefined;
    if (!aws || typeof aws !== "object") throw new RuntimeInputError(field, value, "{ region, endpoint? }");
    if (typeof aws.region !== "string" || !REGION.test(aws.region)) throw new RuntimeInputError(`${field}.region`, aws.region, "an AWS region such as eu-west-1");
    if (aws.endpoint !== undefined && (typeof aws.endpoint !== "string" || !/^https?:\/\/[A-Za-z0-9.\-[\]:]+(\/\S*)?$/.test(aws.endpoint))) {
        throw new RuntimeInputError(`${field}.endpoint`, aws.endpoint, "an http:// or https:// URL");
    }
    return { region: aws.region, ...(aws.endpoint !== undefined ? { endpoint: aws.endpoint } : {}) };
}

/** `err` as `<Name>: <message>`: what an SDK error says, without its request (credentials never appear in it). */
function reason(err: unknown): string {
    const e = err as { name?: string; message?: string };
    return `${e?.name ?? "Error"}: ${(e?.message ?? String(err)).split("\n")[0]}`;
}

/** Runs one call; a failure becomes an error naming the call and the group. */
async function call<T>(what: string, groupName: string | undefined, run: () => Promise<T>): Promise<T> {
    try {
        return await run();
    } catch (err) {
        throw new Error(`AWS ${what}${groupName !== undefined ? ` on group ${groupName}` : ""} failed: ${reason(err)}`, { cause: err });
    }
}

/** A group as DescribeAutoScalingGroups returns it, typed. */
function groupDescription(group: AutoScalingGroup): GroupDescription {
    return {
        groupName: group.AutoScalingGroupName ?? "",
        desiredCapacity: group.DesiredCapacity ?? 0,
        minSize: group.MinSize ?? 0,
        maxSize: group.MaxSize ?? 0,
        instances: (group.Instances ?? []).map((i) => ({
            instanceId: i.InstanceId ?? "",
            availabilityZone: i.AvailabilityZone ?? "",
            lifecycleState: i.LifecycleState ?? "",
            healthStatus: i.HealthStatus ?? "",
            protectedFromScaleIn: i.ProtectedFromScaleIn ?? false,
        })),
        suspendedProcesses: (group.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? "").filter((p) => p !== ""),
        tags: Object.fromEntries((group.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
    };
}

/** Most values of one EC2 filter. */
const FILTER_VALUES = 200;

/** The calls, through clients for `aws` (validated). */
export function autoScalingApi(aws: AwsEndpoint): AutoScalingApi {
    const { region, endpoint } = validateEndpoint("aws", aws);
    const config = { region, ...(endpoint ? { endpoint } : {}) };
    const autoScaling = new AutoScalingClient(config);
    const ec2 = new EC2Client(config);

    const describeGroups = async (input: { AutoScalingGroupNames?: string[]; Filters?: { Name: string; Values: string[] }[] }) => {
        const groups: GroupDescription[] = [];
        let NextToken: string | undefined;
        do {
            const page = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ ...input, NextToken }));
            groups.push(...(page.AutoScalingGroups ?? []).map(groupDescription));
            NextToken = page.NextToken;
        } while (NextToken);
        return groups;
    };

    return {
        async describeGroup(groupName) {
            validateGroupName("groupName", groupName);
            const groups = await call("DescribeAutoScalingGroups", groupName, () => describeGroups({ AutoScalingGroupNames: [groupName] }));
            return groups.find((g) => g.groupName === groupName);
        },
        async groupsTagged(key, value) {
            validateTag("tag", key, value);
            const groups = await call(`DescribeAutoScalingGroups (tag ${key}=${value})`, undefined, () => describeGroups({ Filters: [{ Name: `tag:${key}`, Values: [value] }] }));
            return groups.filter((g) => g.tags[key] === value).sort((a, b) => a.groupName.localeCompare(b.groupName));
        },
        async suspendProcesses(groupName, processes) {
            validateGroupName("groupName", groupName);
            validateProcesses("processes", processes);
            if (processes.length === 0) return;
            await call("SuspendProcesses", groupName, () => autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: processes })));
        },
        async resumeProcesses(groupName, processes) {
            validateGroupName("groupName", groupName);
            validateProcesses("processes", processes);
            if (processes.length === 0) return;
            await call("ResumeProcesses", groupName, () => autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: processes })));
        },
        async updateBounds(groupName, minSize, maxSize) {
            validateGroupName("groupName", groupName);
            validateBounds(minSize, maxSize);
            await call("UpdateAutoScalingGroup", groupName, () => autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, MinSize: minSize, MaxSize: maxSize })));
        },
        async putTag(groupName, key, value) {
            validateGroupName("groupName", groupName);
            validateTag("tag", key, value);
            const tag = { ResourceId: groupName, ResourceType: "auto-scaling-group", Key: key, Value: value, PropagateAtLaunch: false };
            await call(`CreateOrUpdateTags (${key})`, groupName, () => autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag] })));
        },
        async deleteTag(groupName, key) {
            validateGroupName("groupName", groupName);
            validateTag("tag", key, "");
            await call(`DeleteTags (${key})`, groupName, () => autoScaling.send(new DeleteTagsCommand({ Tags: [{ ResourceId: groupName, ResourceType: "auto-scaling-group", Key: key }] })));
        },
        async terminateInGroup(groupName, instanceId) {
            validateGroupName("groupName", groupName);
            validateInstanceId("instanceId", instanceId);
            await call(`TerminateInstanceInAutoScalingGroup (${instanceId})`, groupName, () =>
                autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: false })),
            );
        },
        async describeInstances(instanceIds) {
            instanceIds.forEach((id, i) => validateInstanceId(`instanceIds[${i}]`, id));
            const found: Ec2Instance[] = [];
            for (let start = 0; start < instanceIds.length; start += FILTER_VALUES) {
                // A filter, not InstanceIds: an id EC2 does not know yet is left out instead of failing the call.
                const Filters = [{ Name: "instance-id", Values: instanceIds.slice(start, start + FILTER_VALUES) }];
                let NextToken: string | undefined;
                do {
                    const page = await call("EC2 DescribeInstances", undefined, () => ec2.send(new DescribeInstancesCommand({ Filters, NextToken })));
                    for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
                        found.push({
                            instanceId: i.InstanceId ?? "",
                            state: i.State?.Name ?? "unknown",
                            launchTime: i.LaunchTime?.getTime() ?? 0,
                            ...(i.PrivateIpAddress ? { privateIp: i.PrivateIpAddress } : {}),
                        });
                    }
                    NextToken = page.NextToken;
                } while (NextToken);
            }
            return found;
        },
    };
}

/** Minimum and maximum size: whole numbers, 0 ≤ minSize ≤ maxSize. */
export function validateBounds(minSize: unknown, maxSize: unknown): void {
    if (!Number.isInteger(minSize) || (minSize as number) < 0) throw new RuntimeInputError("minSize", minSize, "a whole number ≥ 0");
    if (!Number.isInteger(maxSize) || (maxSize as number) < (minSize as number)) throw new RuntimeInputError("maxSize", maxSize, `a whole number ≥ minSize (${minSize})`);
}

