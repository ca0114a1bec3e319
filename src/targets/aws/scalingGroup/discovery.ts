/**
 * Which instances of an Auto Scaling group serve: those the group lists InService and Healthy that EC2
 * also knows as `running` with a private IP. EC2 is eventually consistent: an instance it does not know
 * yet, or knows as pending, stopped, shutting-down or terminated, does not serve. Leaving instances are
 * those waiting in `Terminating:Wait` for their drain.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { progress } from "../../../provider/providerLog";
import type { AutoScalingApi, Ec2Instance, GroupDescription } from "./autoScalingApi";
import type { GroupInstance } from "./groupInstances";

/** One read of a group. */
export interface GroupReading {
    /** Serving instances, sorted by instance id. */
    instances: GroupInstance[];
    /** Instances in `Terminating:Wait`, sorted. */
    leaving: string[];
    desiredCapacity: number;
    /** Every other instance and why it does not serve, e.g. `i-0abc…: InService/Healthy, EC2 stopped`. */
    notServing: string[];
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The reading of `group`, given what EC2 said of its instances (`ec2`). Pure; exported for tests. */
export function groupReading(group: GroupDescription, ec2: Ec2Instance[]): GroupReading {
    const known = new Map(ec2.map((i) => [i.instanceId, i]));
    const instances: GroupInstance[] = [];
    const notServing: string[] = [];
    for (const member of [...group.instances].sort((a, b) => byId(a.instanceId, b.instanceId))) {
        const found = known.get(member.instanceId);
        const ec2State = found ? `EC2 ${found.state}${found.privateIp ? "" : ", no private IP"}` : "not known to EC2 yet";
        if (member.lifecycleState === "InService" && member.healthStatus === "Healthy" && found?.state === "running" && found.privateIp) {
            instances.push({ instanceId: member.instanceId, privateIp: found.privateIp, availabilityZone: member.availabilityZone });
        } else {
            notServing.push(`${member.instanceId}: ${member.lifecycleState}/${member.healthStatus}, ${ec2State}`);
        }
    }
    const leaving = group.instances.filter((i) => i.lifecycleState === "Terminating:Wait").map((i) => i.instanceId).sort(byId);
    return { instances, leaving, desiredCapacity: group.desiredCapacity, notServing };
}

/** One read of `groupName` (no waiting); undefined when the group does not exist. */
export async function readGroupInstances(api: AutoScalingApi, groupName: string): Promise<GroupReading | undefined> {
    const group = await api.describeGroup(groupName);
    if (!group) return undefined;
    const ids = group.instances.map((i) => i.instanceId);
    return groupReading(group, ids.length > 0 ? await api.describeInstances(ids) : []);
}

/** Options of `waitForGroupInstances`. */
export interface WaitOptions {
    timeoutMs: number;
    intervalMs: number;
}

/**
 * Reads `groupName` until as many instances serve as its desired capacity, and returns that reading.
 * At the deadline, throws naming the group, the counts and each instance that does not serve.
 */
export async function waitForGroupInstances(api: AutoScalingApi, groupName: string, options: WaitOptions): Promise<GroupReading> {
    const deadline = Date.now() + options.timeoutMs;
    let shown = "";
    for (;;) {
        const reading = await readGroupInstances(api, groupName);
        if (!reading) throw new Error(`Auto Scaling group ${groupName} does not exist`);
        const counts = `${reading.instances.length} of ${reading.desiredCapacity} desired instances serve`;
        if (reading.instances.length === reading.desiredCapacity) return reading;
        if (Date.now() >= deadline) {
            const others = reading.notServing.length > 0 ? `; not serving: ${reading.notServing.join("; ")}` : "";
            throw new Error(`Auto Scaling group ${groupName}: ${counts} after ${options.timeoutMs} ms${others}`);
        }
        if (counts !== shown) progress(`group ${groupName}: ${counts}, waiting`);
        shown = counts;
        await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
    }
}
