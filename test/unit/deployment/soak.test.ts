/**
 * The soak's plan and verdicts (scripts/lib/soakFaults.ts, soakRandom.ts, soakReport.ts): a seed gives
 * the same faults, every kind comes in any run of four flips or more, moments fit their kind, and a flip
 * passes only when it converged with no failed request.
 */
import assert from "node:assert/strict";
import { FAULT_KINDS, MOMENTS, planFaults } from "../../../scripts/lib/soakFaults";
import { SeededRandom } from "../../../scripts/lib/soakRandom";
import { flipLine, flipProblem, membershipProblem } from "../../../scripts/lib/soakReport";
import type { FaultyFlip } from "../../../scripts/lib/soakFlip";

const LBS = ["lb1", "lb2", "lb3"];

function flipOf(overrides: Partial<FaultyFlip["run"]> = {}, rest: Partial<FaultyFlip> = {}): FaultyFlip {
    const membership = LBS.map((lb) => ({ lb, servers: [{ name: "app-g8-1", status: "UP" }, { name: "app-g8-0", status: "UP" }] }));
    return {
        run: { from: "g7", to: "g8", traffic: { answers: [], total: 1234, failed: [] }, startedAt: 0, endedAt: 21_400, phases: {} as FaultyFlip["run"]["phases"], membership, appStartSeconds: 1, rollout: [], ...overrides },
        reached: { late: false },
        ...rest,
    };
}

describe("soak", () => {
    it("draws the same faults from the same seed, the first ones whatever the number of flips", () => {
        assert.deepEqual(planFaults(new SeededRandom(7), 12, LBS), planFaults(new SeededRandom(7), 12, LBS));
        assert.deepEqual(planFaults(new SeededRandom(7), 12, LBS).slice(0, 5), planFaults(new SeededRandom(7), 5, LBS));
        assert.notDeepEqual(planFaults(new SeededRandom(7), 12, LBS), planFaults(new SeededRandom(8), 12, LBS));
    });

    it("has every fault kind in any run of four flips or more, and never kills an update between flips", () => {
        for (let seed = 0; seed < 200; seed++) {
            const faults = planFaults(new SeededRandom(seed), 4 + (seed % 5), LBS);
            assert.deepEqual([...new Set(faults.map((f) => f.kind))].sort(), [...FAULT_KINDS].sort(), `seed ${seed}`);
            assert.ok(faults.every((f) => MOMENTS.includes(f.moment) && LBS.includes(f.lb)));
            assert.ok(!faults.some((f) => f.kind === "kill-up" && f.moment === "between-flips"), `seed ${seed}`);
        }
        const moments = new Set(Array.from({ length: 50 }, (_, s) => planFaults(new SeededRandom(s), 8, LBS)).flat().map((f) => f.moment));
        assert.deepEqual([...moments].sort(), [...MOMENTS].sort(), "every moment comes up");
    });

    it("refuses seeds that are not 32-bit whole numbers", () => {
        for (const bad of [-1, 1.5, 2 ** 32, NaN]) assert.throws(() => new SeededRandom(bad), /seed/);
    });

    it("prints ok only for a converged flip with no failed request; a killed one says the next up completed it", () => {
        const servers = ["app-g8-0", "app-g8-1"];
        const ok = flipOf();
        assert.equal(flipProblem(ok, servers), undefined);
        assert.equal(
            flipLine(7, 30, { kind: "kill-up", moment: "drain", lb: "lb2" }, ok, undefined),
            "flip 7/30 g7->g8 fault=kill-up moment=drain requests=1234 failed=0 seconds=21.4 ok (killed, converged by the next up)",
        );
        assert.match(flipProblem(flipOf({ error: new Error("boom\nlb2: not UP") }), servers) ?? "", /pulumi up failed: boom \| lb2: not UP/);
        assert.match(flipProblem(flipOf({}, { reached: undefined }), servers) ?? "", /moment never came/);
        const failed = { kind: "sticky" as const, url: "http://x/", startedAt: 0, endedAt: 1, error: "socket hang up" };
        assert.match(flipProblem(flipOf({ traffic: { answers: [failed], total: 10, failed: [failed] } }), servers) ?? "", /1 requests failed .*sticky.*socket hang up/);
        assert.match(membershipProblem([{ lb: "lb3", servers: [{ name: "app-g8-0", status: "UP" }, { name: "app-g7-0", status: "DRAIN" }] }], servers) ?? "", /lb3 has app-g8-0 UP, app-g7-0 DRAIN/);
    });
});
