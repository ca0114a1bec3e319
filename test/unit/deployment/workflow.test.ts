/**
 * The GitHub Actions workflow: previews both stacks on pull requests with the official Pulumi action,
 * comments the plan summary and the diff, fails on unexpected changes, and applies staging on main.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";

interface Step {
    uses?: string;
    run?: string;
    if?: string;
    with?: Record<string, unknown>;
}
interface Job {
    if?: string;
    strategy?: { matrix?: { stack?: string[] } };
    steps: Step[];
}

const workflow = load(readFileSync(join(__dirname, "..", "..", "..", ".github", "workflows", "pulumi.yml"), "utf8")) as {
    on: Record<string, unknown>;
    jobs: Record<string, Job>;
    permissions: Record<string, string>;
};

describe("GitHub Actions workflow", () => {
    it("runs on pull requests and on pushes to main", () => {
        assert.ok("pull_request" in workflow.on);
        assert.deepEqual((workflow.on.push as { branches: string[] }).branches, ["main"]);
        assert.equal(workflow.permissions["pull-requests"], "write");
    });

    it("previews staging and prod on pull requests with the Pulumi action, commenting the diff", () => {
        const job = workflow.jobs.preview;
        assert.match(job.if ?? "", /pull_request/);
        assert.deepEqual(job.strategy?.matrix?.stack, ["staging", "prod"]);
        const preview = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        assert.equal(preview?.with?.command, "preview");
        assert.equal(preview?.with?.["comment-on-pr"], true);
        assert.equal(preview?.with?.diff, true);
        assert.equal(preview?.with?.["stack-name"], "${{ matrix.stack }}");
    });

    it("comments the plan summary and fails the check when the plan has unexpected changes", () => {
        const steps = workflow.jobs.preview.steps;
        const plan = steps.find((s) => s.run?.includes("plan-summary"));
        assert.match(plan?.run ?? "", /pulumi preview --json --stack \$\{\{ matrix.stack \}\} > preview.json/);
        assert.match(plan?.run ?? "", /npm run --silent plan-summary -- preview.json > plan.md/);
        assert.ok(steps.some((s) => s.uses?.startsWith("actions/github-script@") && String(s.with?.script).includes("plan.md")));
        const gate = steps.find((s) => s.if?.includes("steps.plan.outputs.status"));
        assert.match(gate?.run ?? "", /exit 1/);
    });

    it("applies staging, and only staging, on main", () => {
        const job = workflow.jobs["up-staging"];
        assert.match(job.if ?? "", /refs\/heads\/main/);
        const up = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        assert.equal(up?.with?.command, "up");
        assert.equal(up?.with?.["stack-name"], "staging");
        const allUps = Object.values(workflow.jobs).flatMap((j) => j.steps).filter((s) => s.with?.command === "up");
        assert.deepEqual(allUps.map((s) => s.with?.["stack-name"]), ["staging"]);
    });
});
