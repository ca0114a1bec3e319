/**
 * Server arrays (aws.autoScaling) under strict mocks: per generation a launch template from the frozen
 * spec (runbook step 15), an Auto Scaling group held at the pool's size and GroupInstances; the
 * membership of exactly the instances found; the other generations' groups held (step 10) after the new
 * gate and before the attach; the new group released (step 16) after the smoke check; the old group
 * deleted after its membership (the engine deletes in reverse dependency order). The plugin's own AWS
 * calls behind GroupInstances, ScalingHold and ScalingRelease run against moto_server in
 * test/integration/aws/scalingGroup.test.ts.
 */
import * as assert from "node:assert/strict";
import { parseDeploymentConfig } from "../../../program/config";
import { DEFAULTS } from "../../../src/defaults";
import { programDone, restoreRuntime, type Recorder } from "../../support/mocks";
import { STACK, TYPES, buildAwsProgram, groupInstancesOf, loadUnderMocks, rawArrayConfig, sshSecret } from "./program";

const HELD = [...DEFAULTS.aws.autoScaling.heldProcesses];
const OWNER = `project/${STACK}/app`;

/** The message of the ConfigError `raw` raises, or "" when it parses. */
function configProblems(raw: Record<string, unknown>): string {
    try {
        parseDeploymentConfig(raw);
        return "";
    } catch (err) {
        return (err as Error).message;
    }
}

describe("aws target with server arrays (aws.autoScaling) under strict mocks", function () {
    after(restoreRuntime);

    describe("the first generation", function () {
        let recorder: Recorder;
        before(async function () {
            ({ recorder } = await buildAwsProgram(rawArrayConfig()));
        });

        it("makes a launch template, a group and GroupInstances instead of instances, and holds no other group", function () {
            const custom = recorder.resources.filter((r) => r.custom).map((r) => `${r.type} ${r.name}`);
            assert.deepEqual(recorder.ofType(TYPES.instance), [], "no EC2 instance of its own");
            for (const expected of [`${TYPES.launchTemplate} site-pool-g1-template`, `${TYPES.group} site-pool-g1-group`, `${TYPES.groupInstances} site-pool-g1-instances`]) {
                assert.ok(custom.includes(expected), `${expected} in ${custom.join(", ")}`);
            }
            assert.deepEqual(recorder.byName("site-hold-g1").inputs.keepGenerations, ["g1"], "the hold of a first update keeps only its own group");
        });

        it("builds the launch template from the generation's spec, IMDSv2 required, the instance's name read at boot", function () {
            const template = recorder.byName("site-pool-g1-template").inputs;
            assert.equal(template.imageId, "ami-0a1b2c3d4e5f67890");
            assert.equal(template.instanceType, "m6i.large");
            assert.deepEqual(template.iamInstanceProfile, { name: "app-server-prod" });
            assert.deepEqual(template.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required" });
            const script = Buffer.from(String(template.userData), "base64").toString();
            assert.match(script, /--branch 'v1\.4\.0'/);
            assert.match(script, /printf 'SERVER_NAME="%s-%s"\\n' 'app-g1' "\$instance_id"/);
        });

        it("holds the group at the pool's size, every held process suspended, its instances protected from scale-in, owner-tagged, deleted with force", function () {
            const group = recorder.byName("site-pool-g1-group");
            const g = group.inputs;
            assert.deepEqual([g.minSize, g.maxSize, g.desiredCapacity], [3, 3, 3]);
            assert.deepEqual(g.suspendedProcesses, HELD);
            assert.deepEqual(g.vpcZoneIdentifiers, ["subnet-0a1b2c3d4e5f61001", "subnet-0a1b2c3d4e5f61002"]);
            assert.deepEqual(g.launchTemplate, { id: "site-pool-g1-template-id", version: "1" });
            assert.equal(g.forceDelete, true);
            assert.equal(g.protectFromScaleIn, true, "a scale-in terminates nothing before a pulumi up drained it");
            assert.ok((g.tags as { key: string; value: string }[]).some((t) => t.key === "bluegreen:pool" && t.value === OWNER), JSON.stringify(g.tags));
            assert.ok((g.tags as { key: string; value: string }[]).some((t) => t.key === "Generation" && t.value === "g1"));
            assert.ok(recorder.dependsOn(group, recorder.byName("site-pool-g1-template")));
        });

        it("finds the group's instances after the group exists, and gates and attaches exactly those, named by instance id", function () {
            const found = recorder.byName("site-pool-g1-instances");
            assert.equal(found.inputs.groupName, "site-pool-g1-group-asg");
            assert.deepEqual(found.inputs.aws, { region: "eu-west-1" });
            assert.ok(recorder.dependsOn(found, recorder.byName("site-pool-g1-group")));
            const instances = groupInstancesOf("site-pool-g1-group-asg");
            const gate = recorder.byName("site-pool-g1-gate");
            assert.deepEqual(gate.inputs.targets, instances.map((i) => ({ name: `app-g1-${i.instanceId}`, url: `http://${i.privateIp}:8080/health` })));
            assert.ok(recorder.dependsOn(gate, found));
            const membership = recorder.byName("site-members-g1");
            assert.deepEqual(membership.inputs.servers, instances.map((i) => ({ server: `app-g1-${i.instanceId}`, address: i.privateIp, port: 8080 })));
        });

        it("releases the group after the smoke check: the held processes, the configured bounds, the instances left over by a scale-in", function () {
            const release = recorder.byName("site-release-g1");
            assert.deepEqual(release.inputs, {
                aws: { region: "eu-west-1" },
                groupName: "site-pool-g1-group-asg",
                processes: HELD,
                minSize: 2,
                maxSize: 6,
                leaving: [],
                __provider: release.inputs.__provider,
            });
            assert.ok(recorder.dependsOn(release, recorder.byName("site-smoke-g1")));
        });

        it("deletes the group only after its membership: the membership depends on it, so the engine drains first", function () {
            assert.ok(recorder.dependsOn(recorder.byName("site-members-g1"), recorder.byName("site-pool-g1-group")));
        });
    });

    describe("a flip g1 -> g2", function () {
        let recorder: Recorder;
        before(async function () {
            ({ recorder } = await buildAwsProgram(rawArrayConfig({ generation: "g2" }), { remembered: ["g1"], previous: "g1" }));
        });

        it("creates g2's launch template and group from g2's spec, and registers nothing of g1 (the engine deletes it)", function () {
            const template = recorder.byName("site-pool-g2-template").inputs;
            assert.match(Buffer.from(String(template.userData), "base64").toString(), /--branch 'v1\.5\.0'/);
            assert.match(Buffer.from(String(template.userData), "base64").toString(), /FEATURE_CHECKOUT_V2="on"/);
            assert.deepEqual(recorder.resources.filter((r) => r.name.includes("-g1")).map((r) => r.name), []);
        });

        it("attaches exactly the instances of g2's group", function () {
            const instances = groupInstancesOf("site-pool-g2-group-asg");
            assert.deepEqual(recorder.byName("site-members-g2").inputs.servers, instances.map((i) => ({ server: `app-g2-${i.instanceId}`, address: i.privateIp, port: 8080 })));
        });

        it("holds the other generations' groups (owner tag, all but g2) after g2's gate and before the attach", function () {
            const hold = recorder.byName("site-hold-g2");
            assert.equal(hold.inputs.owner, OWNER);
            assert.deepEqual(hold.inputs.keepGenerations, ["g2"]);
            assert.deepEqual(hold.inputs.processes, HELD);
            assert.ok(recorder.dependsOn(hold, recorder.byName("site-pool-g2-gate")), "the hold waits for the new gate");
            const membership = recorder.byName("site-members-g2");
            assert.ok(recorder.dependsOn(membership, hold), "the attach waits for the hold");
        });

        it("releases g2's group after its smoke check, never before the attach", function () {
            const release = recorder.byName("site-release-g2");
            assert.ok(recorder.dependsOn(release, recorder.byName("site-smoke-g2")));
            assert.ok(recorder.dependsOn(release, recorder.byName("site-members-g2")));
        });

        it("keeps a warm standby's group out of the hold", async function () {
            const { recorder: standby } = await buildAwsProgram(rawArrayConfig({ generation: "g2" }), { remembered: ["g1"], previous: "g1", standby: "g1" });
            assert.deepEqual(standby.byName("site-hold-g2").inputs.keepGenerations, ["g2", "g1"]);
            assert.ok(standby.byName("site-pool-g1-group"), "the standby's group stays registered");
            assert.throws(() => standby.byName("site-release-g1"), /found 0/, "the standby's group is not released again");
        });
    });

    it("a failing gate of g2 leaves the old group untouched: no hold, no membership, no release is registered", async function () {
        const { recorder, parseDeploymentConfig: parse, BlueGreenDeployment, deploymentSettings, targetFor } = await loadUnderMocks("site-pool-g2-gate");
        const config = parse(rawArrayConfig({ generation: "g2" }));
        const ssh = sshSecret();
        new BlueGreenDeployment("site", { ...deploymentSettings(config), target: targetFor(config, "site", ssh), ssh, history: { remembered: ["g1"], previous: "g1" } });
        await assert.rejects(programDone(recorder), /site-pool-g2-gate failed/);
        assert.ok(recorder.byName("site-pool-g2-group"), "the new group was created before its gate");
        for (const type of [TYPES.scalingHold, TYPES.poolMembership, TYPES.scalingRelease]) {
            assert.deepEqual(recorder.ofType(type).map((r) => r.name), [], `no ${type}`);
        }
    });

    it("the config requires a region, no canaries and the pool's size within the bounds, all at once", function () {
        const raw = rawArrayConfig({ canarySize: 1 });
        const aws = raw.aws as Record<string, unknown>;
        const message = configProblems({ ...raw, aws: { ...aws, region: undefined, autoScaling: { minSize: 4, maxSize: 6 } } });
        assert.match(message, /aws\.region: is required with aws\.autoScaling/);
        assert.match(message, /canarySize: must be 0 with aws\.autoScaling/);
        assert.match(message, /pool\.size: is 3, outside aws\.autoScaling's 4 to 6/);
        assert.match(configProblems({ ...raw, canarySize: 0, aws: { ...aws, autoScaling: { minSize: 7, maxSize: 6 } } }), /aws\.autoScaling\.minSize: is 7, above maxSize 6/);
        assert.match(configProblems({ ...raw, canarySize: 0, aws: { ...aws, autoScaling: { minSize: 1, maxSize: 6, desired: 4 } } }), /aws\.autoScaling/);
        assert.equal(configProblems({ ...raw, canarySize: 0 }), "");
    });
});
