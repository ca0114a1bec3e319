/**
 * discovery.ts's pure part: which of a group's instances serve, given what EC2 says of them, and which
 * leave; and the wait's deadline error, with a scripted group.
 */
import * as assert from "node:assert/strict";
import type { AutoScalingApi, Ec2Instance, GroupDescription, GroupMember } from "../../../../src/targets/aws/scalingGroup/autoScalingApi";
import { beyondDesired, groupReading, waitForGroupInstances } from "../../../../src/targets/aws/scalingGroup/discovery";

const member = (instanceId: string, lifecycleState = "InService", healthStatus = "Healthy", availabilityZone = "eu-west-1a"): GroupMember => ({
    instanceId,
    availabilityZone,
    lifecycleState,
    healthStatus,
    protectedFromScaleIn: true,
});
const group = (instances: GroupMember[], desiredCapacity = instances.length): GroupDescription => ({ groupName: "web-g2", desiredCapacity, minSize: 0, maxSize: 9, instances, suspendedProcesses: [], tags: {} });
const running = (instanceId: string, privateIp = `10.0.0.${instanceId.slice(-1)}`, launchTime = 1000): Ec2Instance => ({ instanceId, state: "running", privateIp, launchTime });

describe("aws scaling group: discovery", () => {
    it("serves InService, Healthy instances EC2 knows as running with a private IP, sorted by id", () => {
        const reading = groupReading(group([member("i-0000000c"), member("i-0000000a"), member("i-0000000b")]), [running("i-0000000b"), running("i-0000000a"), running("i-0000000c")]);
        assert.deepEqual(reading.instances.map((i) => i.instanceId), ["i-0000000a", "i-0000000b", "i-0000000c"]);
        assert.deepEqual(reading.instances[0], { instanceId: "i-0000000a", privateIp: "10.0.0.a", availabilityZone: "eu-west-1a" });
        assert.deepEqual(reading.notServing, []);
    });

    it("does not serve an instance pending, unhealthy, unknown to EC2, or that EC2 knows as not running or without an IP", () => {
        const reading = groupReading(
            group([member("i-00000001", "Pending"), member("i-00000002", "InService", "Unhealthy"), member("i-00000003"), member("i-00000004"), member("i-00000005"), member("i-00000006"), member("i-00000007")], 7),
            [
                running("i-00000001"),
                running("i-00000002"),
                { instanceId: "i-00000004", state: "terminated", launchTime: 0 },
                { instanceId: "i-00000005", state: "pending", privateIp: "10.0.0.5", launchTime: 0 },
                { instanceId: "i-00000006", state: "running", launchTime: 0 },
                running("i-00000007"),
            ],
        );
        assert.deepEqual(reading.instances.map((i) => i.instanceId), ["i-00000007"]);
        assert.deepEqual(reading.notServing, [
            "i-00000001: Pending/Healthy, EC2 running",
            "i-00000002: InService/Unhealthy, EC2 running",
            "i-00000003: InService/Healthy, not known to EC2 yet",
            "i-00000004: InService/Healthy, EC2 terminated, no private IP",
            "i-00000005: InService/Healthy, EC2 pending",
            "i-00000006: InService/Healthy, EC2 running, no private IP",
        ]);
    });

    it("after a scale-in, lists the serving instances beyond the desired capacity as leaving, sorted, and not as serving", () => {
        const members = [member("i-0000000f", "InService", "Healthy", "eu-west-1b"), member("i-0000000a"), member("i-0000000e"), member("i-0000000d", "Terminating")];
        const reading = groupReading(group(members, 1), [running("i-0000000a", "10.0.0.10", 100), running("i-0000000e", "10.0.0.14", 300), running("i-0000000f", "10.0.0.15", 200)]);
        assert.deepEqual(reading.leaving, ["i-0000000e", "i-0000000f"]);
        assert.deepEqual(reading.instances.map((i) => i.instanceId), ["i-0000000a"]);
        assert.equal(reading.desiredCapacity, 1);
    });

    it("picks the instances beyond the desired capacity as Auto Scaling's default policy: the fullest zone, then the newest, then the highest id", () => {
        const i = (instanceId: string, availabilityZone: string, launchTime: number) => ({ instanceId, availabilityZone, launchTime });
        const serving = [i("i-00000001", "a", 1), i("i-00000002", "a", 5), i("i-00000003", "a", 3), i("i-00000004", "b", 9), i("i-00000005", "b", 9)];
        assert.deepEqual(beyondDesired(serving, 5), []);
        assert.deepEqual(beyondDesired(serving, 4), ["i-00000002"], "zone a has 3 against 2: its newest");
        assert.deepEqual(beyondDesired(serving, 3), ["i-00000002", "i-00000005"], "then 2 against 2: the newest of all, the higher id on a tie");
        assert.deepEqual(beyondDesired(serving, 0).length, 5);
    });

    it("waits until as many serve as desired, and at the deadline names the group, the counts and each instance that does not serve", async () => {
        const reads: GroupDescription[] = [group([member("i-0000000a"), member("i-0000000b", "Pending")], 2), group([member("i-0000000a"), member("i-0000000b")], 2)];
        const api = {
            async describeGroup() {
                return reads.length > 1 ? reads.shift() : reads[0];
            },
            async describeInstances(ids: string[]) {
                return ids.map((id) => running(id));
            },
        } as unknown as AutoScalingApi;
        const reading = await waitForGroupInstances(api, "web-g2", { timeoutMs: 5000, intervalMs: 10 });
        assert.equal(reading.instances.length, 2);

        reads.splice(0, 1, group([member("i-0000000a"), member("i-0000000b", "Pending")], 2));
        await assert.rejects(waitForGroupInstances(api, "web-g2", { timeoutMs: 50, intervalMs: 10 }), /^Error: Auto Scaling group web-g2: 1 of 2 desired instances serve after 50 ms; not serving: i-0000000b: Pending\/Healthy, EC2 running$/);
    });
});
