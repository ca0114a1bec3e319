/**
 * The scaling-group calls (autoScalingApi.ts), discovery, the hold and the three providers against moto's
 * AWS emulator (lab/motoServer.ts: a real `moto_server` 5.2.1 on a free port), through the real AWS SDK v3
 * clients; credentials are fake (moto checks no signature). The providers' methods are called as the
 * engine calls them (check, then create, diff, update, delete).
 *
 * What moto (5.2.1) does not enforce or model, found here and worked around:
 * - suspended processes are stored and listed, nothing more: a group with `Launch` suspended still
 *   launches when its desired capacity rises or an instance is terminated;
 * - an instance terminated through EC2 leaves the group's list at once and is replaced (AWS would keep it
 *   listed a while, as Terminating or unhealthy); EC2 then says `terminated`. The cross-check is tested by
 *   reading the group as it was listed before with what EC2 says after;
 * - lifecycle hooks are stored but never hold an instance (`Terminating:Wait` never appears) and
 *   CompleteLifecycleAction is not implemented: one reason the groups use scale-in protection instead,
 *   which moto models (a lower desired capacity terminates no protected instance);
 * - a scale-in terminates the first unprotected instances it lists, not by AWS's termination policy;
 * - an instance stopped through EC2 stays InService and Healthy in the group: the tests use it as an
 *   instance the group lists but EC2 does not run (and starting it again as one that appears late);
 * - UpdateAutoScalingGroup accepts MinSize > MaxSize (the plugin refuses it itself); no signature check.
 */
import {
    AutoScalingClient,
    CreateAutoScalingGroupCommand,
    DescribeAutoScalingGroupsCommand,
    SetDesiredCapacityCommand,
    SuspendProcessesCommand,
} from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import * as assert from "node:assert/strict";
import { startMoto, type RunningMoto } from "../../../lab/motoServer";
import { freePort } from "../../../lab/ports";
import { waitFor } from "../../../lab/wait";
import { DEFAULTS } from "../../../src/defaults";
import { setProgressSink } from "../../../src/provider/providerLog";
import { autoScalingApi, SCALING_PROCESSES, type AutoScalingApi } from "../../../src/targets/aws/scalingGroup/autoScalingApi";
import { groupReading, readGroupInstances, waitForGroupInstances } from "../../../src/targets/aws/scalingGroup/discovery";
import groupInstancesProvider from "../../../src/targets/aws/scalingGroup/groupInstancesProvider";
import { releaseHold } from "../../../src/targets/aws/scalingGroup/processHold";
import scalingHoldProvider from "../../../src/targets/aws/scalingGroup/scalingHoldProvider";
import scalingReleaseProvider from "../../../src/targets/aws/scalingGroup/scalingReleaseProvider";

const REGION = "us-east-1";
const LAUNCH_TEMPLATE = "bluegreen-web";
/** The held processes, in the order hold records list them. */
const HELD: string[] = SCALING_PROCESSES.filter((p) => (DEFAULTS.aws.autoScaling.heldProcesses as readonly string[]).includes(p));
const { ownerTagKey, heldByTagKey } = DEFAULTS.aws.autoScaling;
/** Fake credentials (moto checks no signature), and no warning that this SDK release's successors need Node.js 22 (the machine has 20). */
const FAKE_CREDENTIALS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };

type Provider = typeof groupInstancesProvider;
/** check, then create, as the engine does; fails on a check failure. */
async function checkAndCreate(provider: Provider, inputs: Record<string, unknown>) {
    const checked = await (provider.check as NonNullable<Provider["check"]>)({}, inputs);
    assert.deepEqual(checked.failures ?? [], []);
    return provider.create(checked.inputs);
}

describe("aws scaling groups against moto_server", function () {
    let moto: RunningMoto | undefined;
    let api: AutoScalingApi;
    let aws: { region: string; endpoint: string };
    let autoScaling: AutoScalingClient;
    let ec2: EC2Client;
    const savedEnv: Record<string, string | undefined> = {};
    const progressLines: string[] = [];

    /** The group as moto describes it. */
    const describe1 = async (name: string) => (await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups?.[0];
    const memberIds = async (name: string) => ((await describe1(name))?.Instances ?? []).map((i) => i.InstanceId as string);
    const suspended = async (name: string) => ((await describe1(name))?.SuspendedProcesses ?? []).map((p) => p.ProcessName as string).sort();
    const tag = async (name: string, key: string) => (await describe1(name))?.Tags?.find((t) => t.Key === key)?.Value;
    const ec2Ips = async (ids: string[]) => {
        const found = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
        return new Map(found.map((i) => [i.InstanceId as string, i.PrivateIpAddress as string]));
    };

    async function createGroup(name: string, desired: number, tags: Record<string, string> = {}, suspend: string[] = [], protectFromScaleIn = false) {
        await autoScaling.send(
            new CreateAutoScalingGroupCommand({
                AutoScalingGroupName: name,
                MinSize: 0,
                MaxSize: 10,
                DesiredCapacity: desired,
                LaunchTemplate: { LaunchTemplateName: LAUNCH_TEMPLATE },
                AvailabilityZones: [`${REGION}a`, `${REGION}b`],
                NewInstancesProtectedFromScaleIn: protectFromScaleIn,
                Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: false })),
            }),
        );
        if (suspend.length > 0) await autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: suspend }));
    }

    before(async function () {
        for (const [k, v] of Object.entries(FAKE_CREDENTIALS)) {
            savedEnv[k] = process.env[k];
            process.env[k] = v;
        }
        setProgressSink((line) => progressLines.push(line));
        moto = await startMoto();
        aws = { region: REGION, endpoint: moto.endpoint };
        api = autoScalingApi(aws);
        autoScaling = new AutoScalingClient(aws);
        ec2 = new EC2Client(aws);
        const image = (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId;
        assert.ok(image, "moto lists AMIs");
        await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: LAUNCH_TEMPLATE, LaunchTemplateData: { ImageId: image, InstanceType: "t3.micro" } }));
    });

    after(async function () {
        setProgressSink(undefined);
        autoScaling?.destroy();
        ec2?.destroy();
        await moto?.stop();
        for (const [k, v] of Object.entries(savedEnv)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    });

    describe("discovery", () => {
        it("returns exactly the InService instances, sorted by id, with EC2's private IPs", async () => {
            await createGroup("disc-a", 3);
            const reading = await readGroupInstances(api, "disc-a");
            const ids = (await memberIds("disc-a")).sort();
            const ips = await ec2Ips(ids);
            assert.equal(ids.length, 3);
            assert.deepEqual(reading?.instances.map((i) => i.instanceId), ids);
            for (const i of reading?.instances ?? []) {
                assert.equal(i.privateIp, ips.get(i.instanceId));
                assert.match(i.availabilityZone, /^us-east-1[ab]$/);
            }
            assert.deepEqual(reading?.leaving, []);
            assert.equal(reading?.desiredCapacity, 3);
            assert.equal(await readGroupInstances(api, "no-such-group"), undefined);
        });

        it("waits for an instance that serves late, and at the deadline names the group, the counts and the instance", async () => {
            await createGroup("disc-late", 3);
            const [late] = (await memberIds("disc-late")).sort();
            await ec2.send(new StopInstancesCommand({ InstanceIds: [late] })); // listed InService by the group, stopped for EC2
            await assert.rejects(
                waitForGroupInstances(api, "disc-late", { timeoutMs: 200, intervalMs: 50 }),
                (err: Error) => err.message.startsWith("Auto Scaling group disc-late: 2 of 3 desired instances serve after 200 ms; not serving: ") && err.message.includes(`${late}: InService/Healthy, EC2 stopped`),
            );
            progressLines.length = 0;
            const waiting = waitForGroupInstances(api, "disc-late", { timeoutMs: 30_000, intervalMs: 100 });
            await waitFor(() => (progressLines.some((l) => l === "group disc-late: 2 of 3 desired instances serve, waiting") ? true : undefined), { what: "the wait's first read" });
            await ec2.send(new StartInstancesCommand({ InstanceIds: [late] }));
            const reading = await waiting;
            assert.equal(reading.instances.length, 3);
            assert.ok(reading.instances.some((i) => i.instanceId === late));
        });

        it("does not serve an instance EC2 knows as terminated, though the group listed it InService", async () => {
            await createGroup("disc-term", 2);
            const listed = await api.describeGroup("disc-term");
            const [gone] = (listed?.instances ?? []).map((i) => i.instanceId);
            await ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
            // moto: the group drops it at once and launches a replacement; EC2 says terminated.
            const now = await memberIds("disc-term");
            assert.ok(!now.includes(gone));
            assert.equal(now.length, 2);
            const ec2Now = await api.describeInstances((listed?.instances ?? []).map((i) => i.instanceId));
            assert.equal(ec2Now.find((i) => i.instanceId === gone)?.state, "terminated");
            const stale = groupReading(listed!, ec2Now);
            assert.ok(!stale.instances.some((i) => i.instanceId === gone));
            assert.equal(stale.instances.length, 1);
            const fresh = await readGroupInstances(api, "disc-term");
            assert.deepEqual(fresh?.instances.map((i) => i.instanceId), [...now].sort());
        });

        it("an unknown instance id is left out by EC2, not an error", async () => {
            assert.deepEqual(await api.describeInstances(["i-0123456789abcdef0"]), []);
        });

        it("after a scale-in of a group protected from scale-in, serves the desired capacity and lists the others as leaving", async () => {
            await createGroup("disc-scale-in", 3, {}, [], true);
            await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "disc-scale-in", DesiredCapacity: 1 }));
            const ids = (await memberIds("disc-scale-in")).sort();
            assert.equal(ids.length, 3, "moto terminates no protected instance on a scale-in");
            const reading = await waitForGroupInstances(api, "disc-scale-in", { timeoutMs: 5000, intervalMs: 50 });
            assert.equal(reading.desiredCapacity, 1);
            assert.equal(reading.instances.length, 1);
            assert.equal(reading.leaving.length, 2);
            assert.deepEqual([...reading.instances.map((i) => i.instanceId), ...reading.leaving].sort(), ids);
        });
    });

    describe("hold", () => {
        const owner = "shop/prod/web";
        before(async () => {
            await createGroup("hold-g0", 1, { [ownerTagKey]: owner, Generation: "g0", [heldByTagKey]: "hold-old:Launch,Terminate" }, ["Launch", "Terminate"]);
            await createGroup("hold-g1", 2, { [ownerTagKey]: owner, Generation: "g1" }, ["AZRebalance"]); // the operator's own
            await createGroup("hold-g2", 2, { [ownerTagKey]: owner, Generation: "g2" });
            await createGroup("other-g1", 1, { [ownerTagKey]: "shop/staging/web", Generation: "g1" });
        });

        it("suspends the right processes on the owner's groups but the kept generation, takes another hold's record over, and its delete restores exactly that", async () => {
            const inputs = { aws, owner, keepGenerations: ["g2"], processes: HELD };
            const { id, outs } = await checkAndCreate(scalingHoldProvider, inputs);
            assert.match(id, /^hold-[0-9a-f-]{36}$/);
            const sorted = (list: string[]) => [...list].sort();
            const heldButAz = HELD.filter((p) => p !== "AZRebalance");
            assert.deepEqual(outs.held, [
                { groupName: "hold-g0", processes: HELD },
                { groupName: "hold-g1", processes: heldButAz },
            ]);
            assert.deepEqual(await suspended("hold-g0"), sorted(HELD));
            assert.deepEqual(await suspended("hold-g1"), sorted(HELD));
            assert.equal(await tag("hold-g0", heldByTagKey), `${id}:${HELD.join(",")}`);
            assert.equal(await tag("hold-g1", heldByTagKey), `${id}:${heldButAz.join(",")}`);
            for (const untouched of ["hold-g2", "other-g1"]) {
                assert.deepEqual(await suspended(untouched), []);
                assert.equal(await tag(untouched, heldByTagKey), undefined);
            }
            assert.ok(progressLines.some((l) => l.startsWith(`scaling hold ${id}: group hold-g1 suspended ${heldButAz.join(", ")}`)));

            // The taken-over hold's release leaves the group to its new owner.
            assert.deepEqual(await releaseHold(api, "hold-g0", "hold-old"), []);
            assert.deepEqual(await suspended("hold-g0"), sorted(HELD));

            const diff = await (scalingHoldProvider.diff as NonNullable<Provider["diff"]>)(id, outs, { ...inputs, keepGenerations: ["g3"] });
            assert.deepEqual(diff, { changes: true, replaces: ["keepGenerations"], deleteBeforeReplace: true });
            const named = progressLines.find((l) => l.startsWith(`scaling hold (owner ${owner}, generations kept: g3): holds `));
            assert.ok(named, `the replacing diff names the groups its successor holds; got:\n${progressLines.join("\n")}`);
            assert.deepEqual(named.match(/hold-g\d|other-g\d/g)?.sort(), ["hold-g0", "hold-g1", "hold-g2"]);
            assert.match(named, new RegExp(`suspends ${HELD.join(", ")} `));
            assert.equal((await (scalingHoldProvider.diff as NonNullable<Provider["diff"]>)(id, outs, inputs)).changes, false);

            await scalingHoldProvider.delete!(id, outs);
            assert.deepEqual(await suspended("hold-g0"), []);
            assert.deepEqual(await suspended("hold-g1"), ["AZRebalance"]);
            assert.equal(await tag("hold-g0", heldByTagKey), undefined);
            assert.equal(await tag("hold-g1", heldByTagKey), undefined);
        });

        it("a replacing diff that cannot read the groups says so and still answers", async () => {
            const unreachable = { region: REGION, endpoint: `http://127.0.0.1:${await freePort()}` };
            const olds = { aws: unreachable, owner, keepGenerations: ["g1"], processes: HELD, held: [] };
            const diff = await (scalingHoldProvider.diff as NonNullable<Provider["diff"]>)("hold-x", olds, { ...olds, keepGenerations: ["g2"] });
            assert.deepEqual(diff, { changes: true, replaces: ["keepGenerations"], deleteBeforeReplace: true });
            assert.ok(progressLines.some((l) => l.startsWith("scaling hold: could not read the groups it will hold: ")));
        });

        it("resuming a group that no longer exists is not an error", async () => {
            assert.deepEqual(await releaseHold(api, "no-such-group", "hold-x"), []);
            await scalingHoldProvider.delete!("hold-x", { aws, held: [{ groupName: "no-such-group", processes: ["Launch"] }] });
        });
    });

    describe("release", () => {
        it("resumes what is suspended of its processes, sets the bounds, and terminates the leaving instances still in the group without changing its desired capacity", async () => {
            await createGroup("rel-g3", 3, {}, ["Launch", "Terminate", "AZRebalance", "ScheduledActions"], true);
            await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "rel-g3", DesiredCapacity: 2 }));
            const { leaving } = (await readGroupInstances(api, "rel-g3"))!;
            assert.equal(leaving.length, 1);
            const gone = "i-0123456789abcdef0"; // not in the group: left alone
            const inputs = { aws, groupName: "rel-g3", processes: ["Launch", "Terminate", "AZRebalance", "HealthCheck"], minSize: 1, maxSize: 4, leaving: [...leaving, gone] };
            const { id, outs } = await checkAndCreate(scalingReleaseProvider, inputs);
            assert.equal(id, "rel-g3");
            assert.deepEqual(await suspended("rel-g3"), ["ScheduledActions"]);
            const group = await describe1("rel-g3");
            assert.deepEqual([group?.MinSize, group?.MaxSize, group?.DesiredCapacity], [1, 4, 2]);
            assert.deepEqual(outs.released, leaving);
            assert.ok(!(await memberIds("rel-g3")).includes(leaving[0]), "the leaving instance is out of the group");
            assert.equal((await memberIds("rel-g3")).length, 2, "and not replaced");
            assert.ok(progressLines.includes(`group rel-g3: ${gone} is no longer in the group, left alone`));

            const diff = scalingReleaseProvider.diff as NonNullable<Provider["diff"]>;
            const settled = { ...inputs, leaving: [] };
            assert.equal((await diff(id, outs, settled)).changes, false, "the ended instances leave the next reading: no change");
            assert.equal((await diff(id, outs, inputs)).changes, false, "the same leaving instances: no change");
            assert.equal((await diff(id, outs, { ...settled, maxSize: 6 })).changes, true);
            assert.equal((await diff(id, outs, { ...settled, leaving: ["i-0123456789abcdef1"] })).changes, true);
            assert.deepEqual((await diff(id, outs, { ...settled, groupName: "rel-g4" })).replaces, ["groupName"]);

            const { outs: updated } = await scalingReleaseProvider.update!(id, outs, { ...settled, maxSize: 6 });
            assert.equal((await describe1("rel-g3"))?.MaxSize, 6);
            assert.deepEqual(updated?.released, []);
        });
    });

    describe("GroupInstances provider", () => {
        it("creates with the serving instances, diffs by reading once, replaces on a new group name, and its delete does nothing", async () => {
            await createGroup("gi-g4", 2);
            const inputs = { aws, groupName: "gi-g4", timeoutMs: 30_000, intervalMs: 100 };
            const { id, outs } = await checkAndCreate(groupInstancesProvider, inputs);
            assert.equal(id, "gi-g4");
            assert.deepEqual(outs.instances.map((i: { instanceId: string }) => i.instanceId), (await memberIds("gi-g4")).sort());
            assert.deepEqual([outs.leaving, outs.desiredCapacity], [[], 2]);

            const diff = groupInstancesProvider.diff as NonNullable<Provider["diff"]>;
            assert.equal((await diff(id, outs, inputs)).changes, false);
            assert.deepEqual(await diff(id, outs, { ...inputs, groupName: "gi-g5" }), { changes: true, replaces: ["groupName"] });
            await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "gi-g4", DesiredCapacity: 3 })); // moto launches at once
            assert.equal((await diff(id, outs, inputs)).changes, true);

            const { outs: updated } = await groupInstancesProvider.update!(id, outs, inputs);
            assert.equal(updated.instances.length, 3);
            const read = await groupInstancesProvider.read!(id, updated);
            assert.deepEqual(read.props?.instances, updated.instances);
            await groupInstancesProvider.delete!(id, updated);
            assert.equal((await memberIds("gi-g4")).length, 3);
        });
    });
});
