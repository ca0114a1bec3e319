/**
 * Which instances of an Auto Scaling group serve: those the group lists InService and Healthy that EC2
 * also knows as `running` with a private IP. EC2 is eventually consistent: an instance it does not know
 * yet, or knows as pending, stopped, shutting-down or terminated, does not serve. The group's instances
 * are protected from scale-in, so a scale-in lowers its desired capacity and terminates nothing: the
 * instances beyond the desired capacity are leaving, picked as Auto Scaling's default termination policy
 * would (the zone with the most instances first, then the most recently launched, then the highest id),
 * to be drained, then terminated (ScalingRelease).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { progress } from "../../../provider/providerLog";
import type { AutoScalingApi, Ec2Instance, GroupDescription } from "./autoScalingApi";
import type { GroupInstance } from "./groupInstances";

/** One read of a group. */
export interface GroupReading {
    /** Serving instances, sorted by instance id. */
    instances: GroupInstance[];
    /** Serving instances beyond the desired capacity, to drain and then terminate, sorted. */
    leaving: string[];
    desiredCapacity: number;
    /** Every other instance and why it does not serve, e.g. `i-0abc…: InService/Healthy, EC2 stopped`. */
    notServing: string[];
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The reading of `group`, given what EC2 said of its instances (`ec2`). Pure; exported for tests. */
export function groupReading(group: GroupDescription, ec2: Ec2Instance[]): GroupReading {
    const known = new Map(ec2.map((i) => [i.instanceId, i]));
    const serving: (GroupInstance & { launchTime: number })[] = [];
    const notServing: string[] = [];
    for (const member of [...group.instances].sort((a, b) => byId(a.instanceId, b.instanceId))) {
        const found = known.get(member.instanceId);
        const ec2State = found ? `EC2 ${found.state}${found.privateIp ? "" : ", no private IP"}` : "not known to EC2 yet";
        if (member.lifecycleState === "InService" && member.healthStatus === "Healthy" && found?.state === "running" && found.privateIp) {
            serving.push({ instanceId: member.instanceId, privateIp: found.privateIp, availabilityZone: member.availabilityZone, launchTime: found.launchTime });
        } else {
            notServing.push(`${member.instanceId}: ${member.lifecycleState}/${member.healthStatus}, ${ec2State}`);
        }
    }
    const leaving = new Set(beyondDesired(serving, group.desiredCapacity));
    const instances = serving.filter((i) => !leaving.has(i.instanceId)).map(({ launchTime: _, ...i }) => i);
    return { instances, leaving: [...leaving].sort(byId), desiredCapacity: group.desiredCapacity, notServing };
}

/**
 * The ids of the serving instances beyond `desired`, one at a time from the zone with the most of those
 * left, the most recently launched there (then the highest id) first. Pure; exported for tests.
 */
export function beyondDesired(serving: { instanceId: string; availabilityZone: string; launchTime: number }[], desired: number): string[] {
    const left = [...serving];
    const picked: string[] = [];
    while (left.length > Math.max(0, desired)) {
        const perZone = new Map<string, number>();
        for (const i of left) perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1);
        const most = Math.max(...perZone.values());
        const candidates = left.filter((i) => perZone.get(i.availabilityZone) === most);
        candidates.sort((a, b) => b.launchTime - a.launchTime || byId(b.instanceId, a.instanceId));
        const [out] = candidates;
        picked.push(out.instanceId);
        left.splice(left.indexOf(out), 1);
    }
    return picked;
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
 * Reads `groupName` until at least as many instances serve as its desired capacity (those beyond it are
 * leaving), and returns that reading. At the deadline, throws naming the group, the counts and each
 * instance that does not serve.
 */
export async function waitForGroupInstances(api: AutoScalingApi, groupName: string, options: WaitOptions): Promise<GroupReading> {
    const deadline = Date.now() + options.timeoutMs;
    let shown = "";
    for (;;) {
        const reading = await readGroupInstances(api, groupName);
        if (!reading) throw new Error(`Auto Scaling group ${groupName} does not exist`);
        const counts = `${reading.instances.length} of ${reading.desiredCapacity} desired instances serve`;
        if (reading.instances.length >= reading.desiredCapacity) return reading;
        if (Date.now() >= deadline) {
            const others = reading.notServing.length > 0 ? `; not serving: ${reading.notServing.join("; ")}` : "";
            throw new Error(`Auto Scaling group ${groupName}: ${counts} after ${options.timeoutMs} ms${others}`);
        }
        if (counts !== shown) progress(`group ${groupName}: ${counts}, waiting`);
        shown = counts;
        await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
    }
}
