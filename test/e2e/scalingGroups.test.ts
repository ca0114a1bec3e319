/**
 * End to end, through the real engine under load: server arrays whose generations are Auto Scaling
 * groups, in moto's AWS emulator (lab/motoServer.ts), behind two real HAProxy load balancers. The
 * groups are made by the test as the aws target makes them (owner and Generation tags, the held
 * processes suspended, instances protected from scale-in); their emulated instances have loopback
 * addresses (VPC 127.0.0.0/16), where the test runs each instance's app server. The program
 * (lab/groupArraysProgram.ts) is a BlueGreenDeployment with `groupArrays`.
 * - the first up attaches exactly the group's instances and releases the group (step 16);
 * - between flips, a scale-out is seen by `pulumi preview` and attached by the next `pulumi up`; a
 *   scale-in terminates nothing (scale-in protection) until the next `pulumi up` drained and detached
 *   the instance beyond the desired capacity, then ended it; 0 failed requests;
 * - a flip holds the old group still (step 10) before the new one attaches, and releases the new one;
 * - a flip whose new instances fail their health check stops before the hold: the old group serves and
 *   scales as before.
 * moto does not enforce suspended processes (a held group would still launch): the test asserts what the
 * plugin asked of the group, not what AWS would then refuse to do.
 */
import * as assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AutoScalingClient, CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, SuspendProcessesCommand } from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand, CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { dump } from "js-yaml";
import { groupArraysConfig, useGroupArraysProgram } from "../../lab/groupArraysProgram";
import { serverStatuses, startHaproxy, type RunningHaproxy } from "../../lab/haproxy";
import { startHttpServer, type TestHttpServer } from "../../lab/httpServer";
import { startMoto, type RunningMoto } from "../../lab/motoServer";
import { freePort } from "../../lab/ports";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";
import { Traffic, type TrafficResult } from "../../scripts/lib/traffic";
import { DEFAULTS } from "../../src/defaults";

const REGION = "eu-west-1";
const OWNER = "shop/arrays/app";
const HELD = [...DEFAULTS.aws.autoScaling.heldProcesses].sort();
/** Fake credentials (moto checks no signature), and no warning that this SDK release's successors need Node.js 22 (the machine has 20). */
const FAKE_CREDENTIALS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };

function assertNoFailures(result: TrafficResult, minimum: number): void {
    assert.ok(result.total >= minimum, `enough traffic to mean something: ${result.total}`);
    assert.deepEqual(result.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
}

describe("end to end: Auto Scaling groups as server arrays (moto)", function () {
    this.timeout(900_000);
    let moto: RunningMoto;
    let lbs: RunningHaproxy[] = [];
    let p: ScratchProject;
    let autoScaling: AutoScalingClient;
    let ec2: EC2Client;
    let subnet: string;
    let appPort: number;
    const apps = new Map<string, TestHttpServer>();
    const savedEnv: Record<string, string | undefined> = {};

    const group = async (name: string) => (await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups?.[0];
    const suspended = async (name: string) => ((await group(name))?.SuspendedProcesses ?? []).map((s) => s.ProcessName as string).sort();
    const memberIds = async (name: string) => ((await group(name))?.Instances ?? []).map((i) => i.InstanceId as string).sort();

    /** Starts the app server of every instance of `groupName` that has none yet, healthy or not. */
    async function serveInstances(groupName: string, healthy = true): Promise<string[]> {
        const ids = await memberIds(groupName);
        const found = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
        for (const i of found) {
            const id = i.InstanceId as string;
            if (apps.has(id)) continue;
            const app = await startHttpServer(id, { host: i.PrivateIpAddress as string, port: appPort });
            app.setHealthy(healthy);
            apps.set(id, app);
        }
        return ids;
    }

    /** A group as the aws target creates it: tagged, held processes suspended, instances protected from scale-in. */
    async function createGroup(generation: string, desired: number): Promise<string[]> {
        const name = `web-${generation}`;
        await autoScaling.send(
            new CreateAutoScalingGroupCommand({
                AutoScalingGroupName: name,
                MinSize: desired,
                MaxSize: desired,
                DesiredCapacity: desired,
                LaunchTemplate: { LaunchTemplateName: "web-template" },
                VPCZoneIdentifier: subnet,
                NewInstancesProtectedFromScaleIn: true,
                Tags: [
                    { Key: DEFAULTS.aws.autoScaling.ownerTagKey, Value: OWNER, PropagateAtLaunch: false },
                    { Key: "Generation", Value: generation, PropagateAtLaunch: true },
                ],
            }),
        );
        await autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: [...DEFAULTS.aws.autoScaling.heldProcesses] }));
        return memberIds(name);
    }

    /** Every load balancer's servers and their status. */
    const statuses = async () => Promise.all(lbs.map((lb) => serverStatuses(lb)));
    const serving = (ids: string[], generation: string) => ids.map((id) => `app-${generation}-${id} UP`).sort();

    async function upUnderLoad(generation: string) {
        await p.stack.setConfig("haproxy-bluegreen:generation", { value: generation });
        const traffic = new Traffic({ urls: lbs.map((lb) => lb.frontendUrl), ratePerSecond: 60, clients: 4, longRequestMs: 2000, longEveryMs: 700 });
        try {
            const result = await p.stack.up();
            const load = await traffic.stop();
            console.log(`      up to ${generation}: ${load.total} requests, ${load.failed.length} failed`);
            return { result, traffic: load };
        } catch (err) {
            await traffic.stop();
            throw err;
        }
    }

    before(async function () {
        for (const [k, v] of Object.entries(FAKE_CREDENTIALS)) {
            savedEnv[k] = process.env[k];
            process.env[k] = v;
        }
        moto = await startMoto();
        const aws = { region: REGION, endpoint: moto.endpoint };
        autoScaling = new AutoScalingClient(aws);
        ec2 = new EC2Client(aws);
        const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "127.0.0.0/16" }))).Vpc?.VpcId;
        subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "127.0.1.0/24", AvailabilityZone: `${REGION}a` }))).Subnet?.SubnetId as string;
        const image = (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId;
        await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: "web-template", LaunchTemplateData: { ImageId: image, InstanceType: "t3.micro" } }));
        appPort = await freePort();
        lbs = await Promise.all([startHaproxy(), startHaproxy()]);
        p = await scratchProject("arrays");
        useGroupArraysProgram(p.dir);
        writeFileSync(join(p.dir, "Pulumi.arrays.yaml"), dump({ config: groupArraysConfig({ generation: "g1", lbs, aws, owner: OWNER, appPort }) }));
    });

    after(async function () {
        await p?.stack.destroy().catch(() => undefined);
        await p?.dispose();
        await Promise.all(lbs.map((lb) => lb.stop()));
        await Promise.all([...apps.values()].map((app) => app.stop()));
        autoScaling?.destroy();
        ec2?.destroy();
        await moto?.stop();
        for (const [k, v] of Object.entries(savedEnv)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    });

    it("the first up attaches exactly the group's instances and releases the group: processes resumed, bounds set", async function () {
        const ids = await createGroup("g1", 2);
        await serveInstances("web-g1");
        const result = await p.stack.up();
        assert.equal(result.summary.result, "succeeded");
        for (const lb of await statuses()) assert.deepEqual(lb, serving(ids, "g1"));
        assert.deepEqual(await suspended("web-g1"), []);
        const g = await group("web-g1");
        assert.deepEqual([g?.MinSize, g?.MaxSize, g?.DesiredCapacity], [1, 4, 2]);
    });

    it("a scale-out is in the next preview and attached by the next up, under load, 0 failed", async function () {
        const before = await memberIds("web-g1");
        await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "web-g1", DesiredCapacity: 3 }));
        const ids = await serveInstances("web-g1");
        const added = ids.filter((id) => !before.includes(id));
        assert.equal(added.length, 1);
        for (const lb of await statuses()) assert.deepEqual(lb, serving(before, "g1"), "nothing attaches between two ups");
        const preview = await p.stack.preview();
        assert.ok((preview.changeSummary.update ?? 0) >= 1, JSON.stringify(preview.changeSummary));
        assert.match(preview.stdout, new RegExp(`group web-g1 changed since the last update:\\s+${added[0]} \\(127\\.0\\.1\\.\\d+\\) serves`));
        const { result, traffic } = await upUnderLoad("g1");
        assert.equal(result.summary.result, "succeeded");
        for (const lb of await statuses()) assert.deepEqual(lb, serving(ids, "g1"));
        assertNoFailures(traffic, 50);
    });

    it("a scale-in terminates nothing until the next up drained, detached and then ended the instance beyond the desired capacity, 0 failed", async function () {
        const before = await memberIds("web-g1");
        await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "web-g1", DesiredCapacity: 2 }));
        assert.deepEqual(await memberIds("web-g1"), before, "scale-in protection: the group terminates nothing by itself");
        for (const lb of await statuses()) assert.equal(lb.length, 3, "all three still serve");
        const preview = await p.stack.preview();
        const leaving = /(i-[0-9a-f]+) is beyond the desired capacity: to drain, then terminate/.exec(preview.stdout)?.[1];
        assert.ok(leaving && before.includes(leaving), preview.stdout);
        const { result, traffic } = await upUnderLoad("g1");
        assert.equal(result.summary.result, "succeeded");
        const kept = before.filter((id) => id !== leaving);
        for (const lb of await statuses()) assert.deepEqual(lb, serving(kept, "g1"));
        assert.deepEqual(await memberIds("web-g1"), kept, "the drained instance was terminated, and not replaced");
        assert.match(result.stdout, new RegExp(`group web-g1: ${leaving} drained and detached, terminated`));
        assertNoFailures(traffic, 50);
        await p.stack.preview({ expectNoChanges: true });
    });

    it("a flip whose new instances fail their health check stops before the hold: the old group serves and scales as before", async function () {
        await createGroup("g9", 2);
        await serveInstances("web-g9", false);
        await p.stack.setConfig("haproxy-bluegreen:generation", { value: "g9" });
        await assert.rejects(p.stack.up(), /site-pool-g9-gate/);
        assert.deepEqual(await suspended("web-g1"), [], "nothing held on the serving group");
        for (const lb of await statuses()) assert.deepEqual(lb, serving(await memberIds("web-g1"), "g1"));
    });

    it("a flip holds the old group still before the new one attaches, releases the new one, and retires the old one's instances, 0 failed", async function () {
        const ids = await createGroup("g2", 2);
        await serveInstances("web-g2");
        await p.stack.setConfig("haproxy-bluegreen:generation", { value: "g2" });
        const preview = await p.stack.preview();
        const named = /scaling hold \(owner [^)]*generations kept: g2\): holds ([^:]+): suspends/.exec(preview.stdout)?.[1];
        assert.deepEqual(named?.split(", ").sort(), ["web-g1", "web-g9"], `the preview names the groups the flip holds:\n${preview.stdout}`);
        const { result, traffic } = await upUnderLoad("g2");
        assert.equal(result.summary.result, "succeeded");
        for (const lb of await statuses()) assert.deepEqual(lb, serving(ids, "g2"));
        assert.deepEqual(await suspended("web-g1"), HELD, "the old group is held still");
        assert.match((await group("web-g1"))?.Tags?.find((t) => t.Key === DEFAULTS.aws.autoScaling.heldByTagKey)?.Value ?? "", /^hold-/);
        assert.deepEqual(await suspended("web-g2"), [], "the new group is released");
        assert.deepEqual(await suspended("web-g9"), HELD, "the failed generation's group is held, never released");
        const held = result.stdout.indexOf("group web-g1 suspended");
        const attached = result.stdout.search(/app-g2-i-[0-9a-f]+ attached and UP/);
        assert.ok(held >= 0 && attached >= 0 && held < attached, `the hold's line comes before the attach's:\n${result.stdout}`);
        assertNoFailures(traffic, 50);
    });
});
