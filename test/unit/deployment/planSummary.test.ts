/**
 * The upgrade plan of real `pulumi preview --json` output captured from the local stack of a scratch
 * project (test/fixtures/preview, provider code elided), and the command's exit codes.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatPlan, summarizePreview, type PreviewJson } from "../../../scripts/lib/planSummary";
import { AWS_TYPES, TYPES } from "../../../src/names";

const ROOT = join(__dirname, "..", "..", "..");
const fixture = (name: string): PreviewJson => JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "preview", `${name}.json`), "utf8"));

function runCommand(file: string) {
    return spawnSync(process.execPath, ["-r", "ts-node/register", join(ROOT, "scripts", "plan-summary.ts"), file], {
        cwd: ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
}

describe("plan summary", () => {
    it("lists each server of a batch resource and the load balancers of a pool membership", () => {
        const lbs = [{ name: "lb1" }, { name: "lb2" }];
        const urn = (type: string, name: string) => `urn:pulumi:local::bluegreen::${type}::${name}`;
        const step = (op: string, type: string, name: string, inputs: Record<string, unknown>) => ({
            op,
            urn: urn(type, name),
            [op === "create" ? "newState" : "oldState"]: { type, inputs, outputs: inputs },
        });
        const plan = summarizePreview({
            steps: [
                step("create", TYPES.localAppServers, "site-pool-g2-servers", { names: ["app-g2-0", "app-g2-1"], appRef: "v2" }),
                step("create", TYPES.poolMembership, "site-members-g2", { loadBalancers: lbs }),
                step("delete", TYPES.poolMembership, "site-members-g1", { loadBalancers: lbs, drain: { timeoutMs: 300_000, onTimeout: "fail" } }),
                step("delete", TYPES.localAppServers, "site-pool-g1-servers", { names: ["app-g1-0", "app-g1-1"], appRef: "v1" }),
            ],
        });
        assert.deepEqual([plan.from, plan.to], ["g1", "g2"]);
        assert.deepEqual(plan.create, ["app-g2-0", "app-g2-1"].map((n) => ({ name: `site-pool-g2-servers/${n}`, differences: ['appRef: "v1" -> "v2"'] })));
        assert.deepEqual(plan.attach, ["lb1", "lb2"]);
        assert.deepEqual(plan.drainFrom, { loadBalancers: ["lb1", "lb2"], timeoutSeconds: 300, onTimeout: "fail" });
        assert.deepEqual(plan.terminate, ["site-pool-g1-servers/app-g1-0", "site-pool-g1-servers/app-g1-1"]);
        assert.deepEqual(plan.unexpected, []);
    });

    it("names the Auto Scaling groups of a flip with server arrays and what happens to them at each step", () => {
        const lbs = [{ name: "lb1" }, { name: "lb2" }];
        const urn = (type: string, name: string) => `urn:pulumi:prod::bluegreen::${type}::${name}`;
        const step = (op: string, type: string, name: string, inputs: Record<string, unknown>) => ({
            op,
            urn: urn(type, name),
            [op === "create" ? "newState" : "oldState"]: { type, inputs, outputs: inputs },
        });
        const held = ["Launch", "Terminate"];
        const plan = summarizePreview({
            steps: [
                step("create", AWS_TYPES.launchTemplate, "site-pool-g2-template", { imageId: "ami-0b", instanceType: "m6i.large" }),
                step("create", AWS_TYPES.autoScalingGroup, "site-pool-g2-group", { desiredCapacity: 3, suspendedProcesses: held }),
                step("create", TYPES.awsGroupInstances, "site-pool-g2-instances", {}),
                step("create", TYPES.awsScalingHold, "site-hold-g2", { owner: "shop/prod/app", keepGenerations: ["g2"], processes: held }),
                step("create", TYPES.poolMembership, "site-members-g2", { loadBalancers: lbs }),
                step("create", TYPES.awsScalingRelease, "site-release-g2", { processes: held, minSize: 2, maxSize: 6 }),
                step("delete", TYPES.poolMembership, "site-members-g1", { loadBalancers: lbs }),
                step("delete", TYPES.awsScalingRelease, "site-release-g1", {}),
                step("delete", TYPES.awsScalingHold, "site-hold-g1", {}),
                step("delete", TYPES.awsGroupInstances, "site-pool-g1-instances", {}),
                step("delete", AWS_TYPES.autoScalingGroup, "site-pool-g1-group", {}),
                step("delete", AWS_TYPES.launchTemplate, "site-pool-g1-template", { imageId: "ami-0a", instanceType: "m6i.large" }),
            ],
        });
        assert.deepEqual(plan.arrays, {
            create: [{ name: "site-pool-g2-group", size: 3, suspended: held, differences: ['imageId: "ami-0a" -> "ami-0b"'] }],
            hold: { name: "site-hold-g2", owner: "shop/prod/app", keep: ["g2"], processes: held },
            release: { name: "site-release-g2", processes: held, minSize: 2, maxSize: 6 },
            rescan: [],
            delete: ["site-pool-g1-group"],
        });
        assert.deepEqual(plan.unexpected, [], "the old generation's array goes with the flip");
        const text = formatPlan(plan);
        const order = [/Create 1 Auto Scaling group\*\* \(runbook step 15\)/, /site-pool-g2-group: held at 3 instances, Launch, Terminate suspended until its release \(launch template differs: imageId/, /Hold still\*\* \(runbook step 10, site-hold-g2\): every group of shop\/prod\/app but generation g2: suspend Launch, Terminate/, /Attach to\*\*: lb1, lb2/, /Release\*\* \(runbook step 16, site-release-g2\): the new group resumes Launch, Terminate, bounds 2 to 6/, /Drain from/, /Delete 1 Auto Scaling group\*\* with their instances, once drained: site-pool-g1-group/];
        let at = 0;
        for (const expected of order) {
            const found = text.slice(at).search(expected);
            assert.ok(found >= 0, `${expected} after position ${at} in:\n${text}`);
            at += found;
        }
    });

    it("names a group whose instances changed between flips: attach the added, drain those beyond the desired capacity", () => {
        const urn = (type: string, name: string) => `urn:pulumi:prod::bluegreen::${type}::${name}`;
        const step = (op: string, type: string, name: string) => ({ op, urn: urn(type, name), newState: { type, inputs: {} }, oldState: { type, inputs: {} } });
        const plan = summarizePreview({
            steps: [
                step("update", TYPES.awsGroupInstances, "site-pool-g2-instances"),
                step("create-replacement", TYPES.healthGate, "site-pool-g2-gate"),
                step("replace", TYPES.healthGate, "site-pool-g2-gate"),
                step("update", TYPES.poolMembership, "site-members-g2"),
                step("delete-replaced", TYPES.healthGate, "site-pool-g2-gate"),
            ],
        });
        assert.deepEqual(plan.arrays.rescan, ["site-pool-g2-instances"]);
        assert.deepEqual(plan.unexpected, [], "the pool's gate checks the new list again: not a reason to stop");
        assert.match(formatPlan(plan), /\*\*Group instances changed\*\* since the last update: site-pool-g2-instances; instances added are health-checked and attached, instances beyond the desired capacity are drained, then terminated/);
    });

    it("names a rollout's steps, bakes and thresholds in the attach step", () => {
        const lbs = [{ name: "lb1" }];
        const rollout = { steps: [{ percent: 10, bakeMs: 60_000 }, { percent: 100, bakeMs: 120_000 }], analysis: { maxErrorRate: 0.02 } };
        const plan = summarizePreview({
            steps: [{ op: "create", urn: `urn:pulumi:local::bluegreen::${TYPES.poolMembership}::site-members-g2`, newState: { type: TYPES.poolMembership, inputs: { loadBalancers: lbs, rollout } } }],
        });
        assert.match(plan.rollout ?? "", /^10% for 60 s, 100% for 120 s; analysed every 10 s \(at least 20 requests .*error rate at most 2% /);
        assert.match(formatPlan(plan), /\*\*Attach to\*\*: lb1, at weight 0, then traffic in steps: 10% for 60 s/);
    });

    it("lists exactly the changes of a flip g2 -> g1", () => {
        const plan = summarizePreview(fixture("flip-g2-to-g1"));
        assert.equal(plan.from, "g2");
        assert.equal(plan.to, "g1");
        assert.deepEqual(plan.create, [
            { name: "site-pool-g1-servers/app-g1-0", differences: ['appRef: "v1.1.0" -> "v1.0.0"'] },
            { name: "site-pool-g1-servers/app-g1-1", differences: ['appRef: "v1.1.0" -> "v1.0.0"'] },
        ]);
        assert.deepEqual(plan.terminate, ["site-pool-g2-servers/app-g2-0", "site-pool-g2-servers/app-g2-1"]);
        assert.deepEqual(plan.attach, ["lb1", "lb2"]);
        assert.deepEqual(plan.drainFrom, { loadBalancers: ["lb1", "lb2"], timeoutSeconds: 60, onTimeout: "fail" });
        assert.deepEqual(plan.snapshots, []);
        assert.deepEqual(plan.migrations, []);
        assert.deepEqual(plan.smoke, ["site-smoke-g1"]);
        assert.deepEqual(plan.unexpected, []);
        assert.match(formatPlan(plan), /^## Upgrade plan: generation g2 -> g1\n/);
    });

    it("lists the steps in the order pulumi up runs them, snapshot and migration first", () => {
        const text = formatPlan(summarizePreview(fixture("flip-with-migration")));
        const steps = [...text.matchAll(/^(\d+)\. \*\*([A-Za-z ]+?)(?: \d+ servers)?\*\*/gm)].map((m) => `${m[1]} ${m[2]}`);
        assert.deepEqual(steps, ["1 Database snapshot", "2 Migration", "3 Create", "4 Attach to", "5 Smoke check", "6 Drain from", "7 Terminate"]);
        assert.match(text, /^1\. \*\*Database snapshot\*\*: site-snapshot-0002-volume$/m);
        assert.match(text, /^2\. \*\*Migration\*\*: site-migration-0002-run$/m);
        assert.match(text, /^3\. \*\*Create 2 servers\*\*, each passing its health check:\n   - site-pool-g1-servers\/app-g1-0 \(differs: appRef: "v1\.1\.0" -> "v1\.0\.0"\)\n   - site-pool-g1-servers\/app-g1-1 /m);
        assert.match(text, /^7\. \*\*Terminate 2 servers\*\*: site-pool-g2-servers\/app-g2-0, site-pool-g2-servers\/app-g2-1$/m);
    });

    it("shows the snapshot and migration of a new migration version, and keeps retained snapshots quiet", () => {
        const plan = summarizePreview(fixture("flip-with-migration"));
        assert.deepEqual(plan.snapshots, ["site-snapshot-0002-volume"]);
        assert.deepEqual(plan.migrations, ["site-migration-0002-run"]);
        assert.deepEqual(plan.unexpected, []);
    });

    it("flags a replaced load balancer loudly", () => {
        const plan = summarizePreview(fixture("flip-replacing-load-balancer"));
        assert.deepEqual(plan.unexpected, ["replace pulumi-nodejs:dynamic/local:LoadBalancer site-lb-lb2"]);
        assert.match(formatPlan(plan), /CAUTION[\s\S]*replace pulumi-nodejs:dynamic\/local:LoadBalancer site-lb-lb2/);
    });

    it("flags a snapshot that would really be deleted, and a serving membership that would be replaced", () => {
        const preview = fixture("flip-with-migration");
        const snapshot = preview.steps.find((s) => s.urn.endsWith("::site-snapshot-0001-volume"))!;
        snapshot.oldState!.retainOnDelete = false;
        const membership = fixture("flip-g2-to-g1").steps.find((s) => s.urn.endsWith("::site-members-g1"))!;
        preview.steps.push({ ...membership, op: "replace" });
        assert.deepEqual(summarizePreview(preview).unexpected, [
            "delete pulumi-nodejs:dynamic/local:Snapshot site-snapshot-0001-volume",
            "replace pulumi-nodejs:dynamic/haproxy:PoolMembership site-members-g1",
        ]);
    });

    it("the command exits 0 on a plain flip and non-zero when something unexpected would be replaced", () => {
        const flip = runCommand(join(ROOT, "test", "fixtures", "preview", "flip-g2-to-g1.json"));
        assert.equal(flip.status, 0, flip.stderr);
        assert.match(flip.stdout, /Drain from\*\*: lb1, lb2 \(drain timeout 60 s, then fail\)/);
        const unexpected = runCommand(join(ROOT, "test", "fixtures", "preview", "flip-replacing-load-balancer.json"));
        assert.equal(unexpected.status, 2);
        assert.match(unexpected.stdout, /Unexpected replace or delete/);
        const garbage = runCommand(join(ROOT, "package.json"));
        assert.equal(garbage.status, 1);
        assert.match(garbage.stderr, /is not the output of `pulumi preview --json`/);
    });
});
