/**
 * The pure parts of a progressive rollout: step weights, the analysis of a window, the stable servers'
 * lines, and the settings' validation.
 */
import * as assert from "node:assert/strict";
import { judgeEarly, judgeWindow, measureWindow } from "../../../src/haproxy/rollout/analysis";
import type { CounterReading, ServerCounters } from "../../../src/haproxy/rollout/counters";
import { resolveRollout } from "../../../src/haproxy/rollout/rolloutSpec";
import { fullWeightOfLine, lineAtWeight } from "../../../src/haproxy/rollout/stableLines";
import { isStableOwner } from "../../../src/haproxy/rollout/stableServers";
import { shareOf, stepWeights } from "../../../src/haproxy/rollout/weights";
import { ownerOfLine } from "../../../src/haproxy/ownership";
import { RuntimeInputError } from "../../../src/haproxy/runtime/validate";

const settings = resolveRollout("rollout", {}).analysis;

function counters(responses: number, errors5xx = 0, extra: Partial<ServerCounters> = {}): ServerCounters {
    return { responses, responses5xx: errors5xx, responseErrors: 0, connectionErrors: 0, retries: 0, ...extra };
}

function reading(lb: string, process: string, servers: Record<string, ServerCounters>, at = 0): CounterReading {
    return { lb, process, at, servers: new Map(Object.entries(servers)) };
}

describe("rollout: step weights", () => {
    for (const [candidates, stables] of [[2, 2], [1, 3], [5, 2], [50, 50], [3, 20]]) {
        for (const percent of [1, 10, 25, 50, 90]) {
            it(`${candidates} new against ${stables} stable servers at ${percent}%: within half a point`, () => {
                const w = stepWeights(percent, candidates, stables, 1);
                assert.ok(w.candidate >= 1 && w.candidate <= 256 && w.stable >= 1 && w.stable <= 256, JSON.stringify(w));
                const share = shareOf(w, candidates, stables) * 100;
                assert.ok(Math.abs(share - percent) <= 0.5, `${share.toFixed(2)}% for ${percent}% (${JSON.stringify(w)})`);
            });
        }
    }

    it("100% is the new servers' full weight and the stable ones at 0", () => {
        assert.deepEqual(stepWeights(100, 2, 2, 7), { candidate: 7, stable: 0 });
    });
});

describe("rollout: the analysis of a window", () => {
    const candidates = ["new-0", "new-1"];
    const stable = ["old-0", "old-1"];
    const start = [reading("lb1", "1@1", { "new-0": counters(0), "new-1": counters(0), "old-0": counters(100, 1), "old-1": counters(100) })];

    it("passes a window where the new generation is as good as the stable one", () => {
        const end = [reading("lb1", "1@1", { "new-0": counters(30), "new-1": counters(30), "old-0": counters(200, 1), "old-1": counters(200) })];
        const w = measureWindow(start, end, candidates, stable);
        assert.deepEqual([w.candidate.requests, w.stable.requests, w.candidate.errors], [60, 200, 0]);
        assert.deepEqual(judgeWindow(w, settings), { result: "pass" });
    });

    it("fails a window where one request in five of the new generation is a 5xx, a failed response or a failed connection", () => {
        const end = [reading("lb1", "1@1", { "new-0": counters(40, 4, { responseErrors: 2 }), "new-1": counters(40, 4, { connectionErrors: 2 }), "old-0": counters(200, 1), "old-1": counters(200) })];
        const verdict = judgeWindow(measureWindow(start, end, candidates, stable), settings);
        assert.equal(verdict.result, "fail");
        assert.match((verdict as { reasons: string[] }).reasons.join("; "), /error rate 14\.29% \(12 of 84\) above maxErrorRate 1\.00%/);
    });

    it("is inconclusive, never a pass, below minRequests", () => {
        const end = [reading("lb1", "1@1", { "new-0": counters(5), "new-1": counters(5), "old-0": counters(200, 1), "old-1": counters(200) })];
        const verdict = judgeWindow(measureWindow(start, end, candidates, stable), settings);
        assert.equal(verdict.result, "inconclusive");
        assert.match((verdict as { reason: string }).reason, /got 10 requests, fewer than minRequests 20/);
    });

    it("is inconclusive when a load balancer's counters started again (a reload), however good the rest", () => {
        const end = [reading("lb1", "2@9", { "new-0": counters(300), "new-1": counters(300), "old-0": counters(5), "old-1": counters(5) })];
        const verdict = judgeWindow(measureWindow(start, end, candidates, stable), settings);
        assert.equal(verdict.result, "inconclusive");
        assert.match((verdict as { reason: string }).reason, /lb1: another HAProxy process \(1@1 -> 2@9\)/);
    });

    it("fails a window under way already when its errors exceed what maxErrorRate allows over minRequests, and never passes it early", () => {
        const early = (newErrors: number) => [reading("lb1", "1@1", { "new-0": counters(4, newErrors), "new-1": counters(3), "old-0": counters(130, 1), "old-1": counters(130) })];
        const verdict = judgeEarly(measureWindow(start, early(1), candidates, stable), settings);
        assert.equal(verdict?.result, "fail");
        assert.match((verdict as { reasons: string[] }).reasons[0], /1 error in the new generation's first 7 requests, more than maxErrorRate 1\.00% of minRequests 20 allows/);
        assert.equal(judgeEarly(measureWindow(start, early(0), candidates, stable), settings), undefined);
        const tolerant = { ...settings, maxErrorRate: 0.1 };
        assert.equal(judgeEarly(measureWindow(start, early(1), candidates, stable), tolerant), undefined, "1 error is within 10% of 20");
    });

    it("is inconclusive when a counter went down without another process (a server added again)", () => {
        const end = [reading("lb1", "1@1", { "new-0": counters(30), "new-1": counters(30), "old-0": counters(50), "old-1": counters(200) })];
        assert.equal(judgeWindow(measureWindow(start, end, candidates, stable), settings).result, "inconclusive");
    });

    it("fails an error rate above the stable generation's by more than maxErrorRateIncrease, under the absolute ceiling", () => {
        const relaxed = { ...settings, maxErrorRate: 0.5 };
        const end = [reading("lb1", "1@1", { "new-0": counters(100, 5), "new-1": counters(100, 5), "old-0": counters(300, 1), "old-1": counters(300) })];
        const verdict = judgeWindow(measureWindow(start, end, candidates, stable), relaxed);
        assert.equal(verdict.result, "fail");
        assert.match((verdict as { reasons: string[] }).reasons[0], /above the stable generation's 0\.00%/);
    });

    it("fails a response time over maxResponseTimeRatio times the stable one's, and passes a small difference", () => {
        const warm = [reading("lb1", "1@1", { "new-0": counters(2000), "new-1": counters(2000), "old-0": counters(5000), "old-1": counters(5000) })];
        const slow = (newMs: number) => [reading("lb1", "1@1", { "new-0": counters(2030, 0, { responseTimeMs: newMs }), "new-1": counters(2030, 0, { responseTimeMs: newMs }), "old-0": counters(5200, 0, { responseTimeMs: 20 }), "old-1": counters(5200, 0, { responseTimeMs: 20 }) })];
        assert.equal(judgeWindow(measureWindow(warm, slow(400), candidates, stable), settings).result, "fail");
        assert.equal(judgeWindow(measureWindow(warm, slow(60), candidates, stable), settings).result, "pass");
    });

    it("leaves response times out while a server has answered fewer than 1024 requests (HAProxy's average of a handful)", () => {
        const end = [reading("lb1", "1@1", { "new-0": counters(30, 0, { responseTimeMs: 400 }), "new-1": counters(30, 0, { responseTimeMs: 400 }), "old-0": counters(2000, 1, { responseTimeMs: 20 }), "old-1": counters(2000, 0, { responseTimeMs: 20 }) })];
        const w = measureWindow(start, end, candidates, stable);
        assert.equal(w.candidate.responseTimeMs, undefined);
        assert.deepEqual(judgeWindow(w, settings), { result: "pass" });
    });
});

describe("rollout: a stable server's line", () => {
    const line = "    server app-g1-0 127.0.0.1:8001 weight 1 check inter 1000 # owner org%2Fproj%2Fstack web-membership-g1";

    it("keeps its full weight and owner at a step's weight, and comes back exactly", () => {
        const stepped = lineAtWeight(line, 9);
        assert.equal(stepped, "    server app-g1-0 127.0.0.1:8001 weight 9 check inter 1000 # owner org%2Fproj%2Fstack web-membership-g1 full-weight 1");
        assert.equal(fullWeightOfLine(stepped), 1);
        assert.deepEqual(ownerOfLine(stepped), { stack: "org%2Fproj%2Fstack", resource: "web-membership-g1" });
        assert.equal(lineAtWeight(lineAtWeight(stepped, 0), 1), line);
    });

    it("is the stable generation's only for another resource of the same stack, within the scope", () => {
        const me = { stack: "o/p/s", resource: "web-membership-g2" };
        assert.ok(isStableOwner({ stack: "o/p/s", resource: "web-membership-g1" }, me, "web-membership-"));
        assert.ok(!isStableOwner({ stack: "o/p/s", resource: "web-membership-g2" }, me, undefined));
        assert.ok(!isStableOwner({ stack: "o/p/other", resource: "web-membership-g1" }, me, undefined));
        assert.ok(!isStableOwner({ stack: "o/p/s", resource: "other-g1" }, me, "web-membership-"));
        assert.ok(!isStableOwner(undefined, me, undefined));
    });
});

describe("rollout: settings", () => {
    it("fills the defaults: 10%, 50%, 100%", () => {
        assert.deepEqual(resolveRollout("rollout", {}).steps.map((s) => s.percent), [10, 50, 100]);
    });

    for (const [raw, field] of [
        [{ steps: [{ percent: 50, bakeMs: 20000 }, { percent: 40, bakeMs: 20000 }, { percent: 100, bakeMs: 20000 }] }, "rollout.steps[1].percent"],
        [{ steps: [{ percent: 50, bakeMs: 20000 }] }, "rollout.steps[0].percent"],
        [{ steps: [{ percent: 100, bakeMs: 1000 }] }, "rollout.steps[0].bakeMs"],
        [{ analysis: { maxErrorRate: 2 } }, "rollout.analysis.maxErrorRate"],
        [{ analysis: { onInconclusive: "promote" } }, "rollout.analysis.onInconclusive"],
        [{ analysis: { minRequests: 0 } }, "rollout.analysis.minRequests"],
        [{ stepz: [] }, "rollout.stepz"],
    ] as const) {
        it(`refuses ${JSON.stringify(raw)}, naming ${field}`, () => {
            assert.throws(() => resolveRollout("rollout", raw), (err: unknown) => err instanceof RuntimeInputError && err.field === field);
        });
    }
});
