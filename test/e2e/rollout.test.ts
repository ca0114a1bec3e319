/**
 * End to end, a progressive rollout (haproxy.rollout) through the real engine, real HAProxy and real app
 * servers under load: a good release through 10/50/100 (the share each step really gave, from HAProxy's
 * counters), a release that fails one request in five (rolled back during its first step), a bake
 * without traffic (inconclusive, never a pass), and a master-worker reload in the middle of a step.
 * The tests run in order; each starts from where the previous one left the stack.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { interruptedUp } from "../../lab/interruptedUp";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { deployedState, flipUnderTraffic } from "../../scripts/lib/flip";
import { rolloutSteps, wentBackAt } from "../../scripts/lib/rolloutSteps";
import type { RolloutWindowTiming } from "../../src/provider/timings";
import { adminCommand, reloadLoadBalancer } from "../../src/targets/local/haproxyControl";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";
import { assertOnlyGeneration, membersByLb } from "../support/servingGeneration";

/** Short bakes so a rollout takes seconds: three steps of two 1.5 s windows each. */
const ROLLOUT = {
    steps: [
        { percent: 10, bakeSeconds: 3 },
        { percent: 50, bakeSeconds: 3 },
        { percent: 100, bakeSeconds: 3 },
    ],
    analysis: { windowSeconds: 1.5, minRequests: 5, inconclusiveExtensionSeconds: 6 },
};
/** Enough short requests that a 10% step gets its minRequests in every window. */
const TRAFFIC = { ratePerSecond: 80, clients: 4 };

describe("end to end: a progressive rollout under live traffic", function () {
    this.timeout(600_000);
    let p: ScratchProject;

    before(async () => {
        p = await scratchProject("rollout");
        await p.setConfig("pool", {
            size: 2,
            namePrefix: "app",
            spec: { appRef: "v1.0.0" },
            generations: { g3: { appRef: "v1.1.0-bad", inputs: { APP_FAIL_FRACTION: "0.2" } } },
        });
        const config = (await p.stack.getAllConfig())["haproxy-bluegreen:haproxy"];
        await p.setConfig("haproxy", { ...JSON.parse(config.value), rollout: ROLLOUT });
    });
    after(async () => {
        await p?.stack.destroy().catch(() => undefined);
        await p?.dispose();
    });

    it("brings up g1 at full weight: there is no stable generation to shift traffic from", async () => {
        const lines: string[] = [];
        await p.stack.up({ onEvent: (e: EngineEvent) => e.diagnosticEvent && lines.push(e.diagnosticEvent.message) });
        assertOnlyGeneration(await membersByLb(p), "g1");
        assert.ok(lines.some((l) => l.includes("no stable generation of this stack in the backend")), lines.join(""));
    });

    it("previews the rollout: the new membership's steps and thresholds", async () => {
        await p.stack.setConfig("generation", { value: "g2" });
        const preview = await p.stack.preview({ diff: true });
        for (const word of ["rollout", "percent", "bakeMs", "maxErrorRate", "minRequests"]) assert.match(preview.stdout, new RegExp(word), `preview --diff shows ${word}`);
    });

    it("a good release g1 -> g2 through 10/50/100: no failed request, each step's share within 5 points of its percent", async () => {
        const run = await flipUnderTraffic(p.stack, "g2", { traffic: TRAFFIC });
        assert.equal(run.error, undefined, run.error?.message);
        assert.ok(run.traffic.total > 500, `traffic: ${run.traffic.total}`);
        assert.deepEqual(run.traffic.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
        const steps = rolloutSteps(run.rollout);
        assert.deepEqual(steps.map((s) => s.step), [1, 2, 3]);
        for (const s of steps) {
            console.log(`      step ${s.step}: asked ${s.percent}%, got ${s.sharePercent.toFixed(1)}% of ${s.requests} requests`);
            assert.ok(Math.abs(s.sharePercent - s.percent) <= 5, `step ${s.step}: ${s.sharePercent.toFixed(1)}% for ${s.percent}%`);
        }
        assertOnlyGeneration(await membersByLb(p), "g2");
    });

    it("a release failing one request in five, g2 -> g3: rolled back in its first step, the update fails with the measurements, g2 back at full share", async () => {
        const run = await flipUnderTraffic(p.stack, "g3", { traffic: TRAFFIC });
        assert.ok(run.error, "the update failed");
        const message = run.error.message;
        assert.match(message, /step 1\/3 \(10%\): the analysis failed/);
        assert.match(message, /error rate \d+\.\d+% \(\d+ of \d+\) above maxErrorRate 1\.00%|\d+ errors? in the new generation's first \d+ requests, more than maxErrorRate 1\.00% of minRequests 5 allows/);
        assert.match(message, /lb1: new \d+\/\d+ errors/);
        assert.match(message, /the new generation drained and detached/);
        const steps = new Set(run.rollout.filter((r) => r.kind === "rollout-window").map((r) => r.step));
        assert.deepEqual([...steps], [1], "judged in the first step only");
        assertOnlyGeneration(await membersByLb(p), "g2");
        const failedOnG3 = run.traffic.failed.filter((f) => f.status === 500);
        console.log(`      clients saw ${run.traffic.failed.length} failed of ${run.traffic.total} requests (${failedOnG3.length} from g3's 500s)`);
        assert.ok(run.traffic.failed.length < run.traffic.total * 0.05, `${run.traffic.failed.length} failed of ${run.traffic.total}`);
        assert.deepEqual(run.traffic.failed.filter((f) => f.status !== 500).map((f) => f.error), [], "no failure other than g3's own 500s");
        // After the rollback every answer came from g2 again.
        const back = wentBackAt(run.rollout);
        assert.ok(back !== undefined, "the weights went back");
        const late = run.traffic.answers.filter((a) => a.startedAt > back + 100);
        assert.ok(late.length > 0 && late.every((a) => a.generation === "g2"), `after going back: ${[...new Set(late.map((a) => a.generation))].join(", ")}`);
    });

    it("setting generation back to g2 removes the failed generation's servers; nothing else changes", async () => {
        await p.stack.setConfig("generation", { value: "g2" });
        await p.stack.up();
        assertOnlyGeneration(await membersByLb(p), "g2");
        const preview = await p.stack.preview({ expectNoChanges: true } as never);
        assert.equal(preview.changeSummary.create ?? 0, 0);
    });

    it("a bake without traffic is inconclusive, never a pass: rolled back when its extension ends", async () => {
        await p.stack.setConfig("generation", { value: "g4" });
        const err = await p.stack.up().then(
            () => undefined,
            (e: Error) => e,
        );
        assert.ok(err, "the update failed");
        assert.match(err.message, /step 1\/3 \(10%\): the bake was still inconclusive/);
        assert.match(err.message, /fewer than minRequests 5/);
        assertOnlyGeneration(await membersByLb(p), "g2");
        await p.stack.setConfig("generation", { value: "g2" });
        await p.stack.up();
        assertOnlyGeneration(await membersByLb(p), "g2");
    });

    it("a master-worker reload of lb1 in the middle of the 50% step: no false verdict, the share kept, no failed request; a weight changed by hand on lb2 is set back", async () => {
        const lbFolder = join(p.stateDir, "local", "rollout", "lb", "lb1");
        const lb2 = (await deployedState(p.stack)).loadBalancers.find((lb) => lb.name === "lb2")!;
        let reload: Promise<unknown> | undefined;
        let byHand: Promise<unknown> | undefined;
        const lines: string[] = [];
        const run = await flipUnderTraffic(p.stack, "g5", {
            traffic: TRAFFIC,
            up: (stack, clock) =>
                stack.up({
                    onEvent: (e: EngineEvent) => {
                        clock.onEvent(e);
                        const message = e.diagnosticEvent?.message ?? "";
                        lines.push(message);
                        if (!reload && message.includes("step 2/3 (50%): window")) reload = reloadLoadBalancer(lbFolder, "master");
                        // At 100% the stable servers are at weight 0: a new server's weight changed by hand leaves the share at 100%.
                        if (!byHand && message.includes("app at 100% new:")) byHand = adminCommand(lb2.endpoint.replace(/^unix:\/\//, ""), "set server app/app-g5-0 weight 3");
                    },
                }),
        });
        assert.ok(reload, "the reload happened during the 50% step");
        await reload;
        assert.ok(byHand, "the weight was changed by hand during the 100% step");
        await byHand;
        assert.ok(lines.some((l) => /lb2: app: app-g5-0 weight 3, not the step's: setting the step's weights again/.test(l)), "the weight was set back");
        assert.equal(run.error, undefined, run.error?.message);
        assert.deepEqual(run.traffic.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
        const windows = run.rollout.filter((r): r is RolloutWindowTiming => r.kind === "rollout-window");
        assert.deepEqual(windows.filter((w) => w.verdict === "fail").map((w) => w.reasons), [], "no window failed");
        assert.ok(windows.some((w) => w.step === 2 && w.verdict === "inconclusive" && /another HAProxy process/.test(w.reasons.join())), "the reload's window was inconclusive");
        for (const s of rolloutSteps(run.rollout)) assert.ok(Math.abs(s.sharePercent - s.percent) <= 5, `step ${s.step}: ${s.sharePercent.toFixed(1)}% for ${s.percent}%`);
        assertOnlyGeneration(await membersByLb(p), "g5");
    });

    it("an up killed during the 100% step: the old servers' lines (at weight 0) keep their full weight, and the re-run rolls out from weight 0 with no failed request", async () => {
        const serversFile = join(p.stateDir, "local", "rollout", "lb", "lb1", "servers", "app.cfg");
        let linesAtKill = "";
        const run = await flipUnderTraffic(p.stack, "g6", {
            traffic: TRAFFIC,
            up: async (stack) => {
                // lb1's own line: each load balancer reports its step's weights once they are set, in its file too.
                const { seen, output } = await interruptedUp(p, stack, /lb1: app at 100% new/, (group) => {
                    linesAtKill = readFileSync(serversFile, "utf8");
                    process.kill(-group, "SIGKILL");
                });
                assert.ok(seen, `the 100% step began before the kill:\n${output.slice(-2000)}`);
                return stack.up();
            },
        });
        assert.match(linesAtKill, /server app-g5-0 .* weight 0 .*# owner \S+ \S+-members-g5 full-weight 1\n/, linesAtKill);
        assert.equal(run.error, undefined, run.error?.message);
        assert.deepEqual(run.traffic.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
        assert.deepEqual(rolloutSteps(run.rollout).map((s) => s.step), [1, 2, 3], "the re-run went through every step");
        assertOnlyGeneration(await membersByLb(p), "g6");
        assert.doesNotMatch(readFileSync(serversFile, "utf8"), /full-weight/);
    });
});
