/**
 * The picture of a flip, on made-up traffic and phases: the SVG text says who answered when, marks the
 * failures and draws each phase where it ran.
 */
import * as assert from "node:assert/strict";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { binRates, escapeXml, flipPicture, niceStep, type FlipPictureInput } from "../../../scripts/lib/flipPicture";
import { PhaseClock } from "../../../scripts/lib/phases";
import type { Answer } from "../../../scripts/lib/traffic";

const answer = (a: Partial<Answer>): Answer => ({ kind: "short", url: "http://lb/", startedAt: 0, endedAt: 10, status: 200, generation: "g1", server: "app-g1-0", ...a });

/** 10 s of traffic at 10 requests/s: g1 answers the first 5 s, g2 the last 5 s, one failure at 5.05 s. */
function input(): FlipPictureInput {
    const answers: Answer[] = [];
    for (let t = 0; t < 10_000; t += 100) answers.push(answer({ startedAt: t, endedAt: t + 5, generation: t < 5000 ? "g1" : "g2", server: t < 5000 ? "app-g1-0" : "app-g2-0" }));
    answers.push(answer({ startedAt: 5000, endedAt: 5050, status: 503, generation: undefined, server: undefined, error: "HTTP 503" }));
    return {
        from: "g1",
        to: "g2",
        answers,
        startedAt: 1000,
        endedAt: 10_000,
        phaseSpans: { create: { start: 1000, end: 2000 }, attach: { start: 3000, end: 4000 }, drain: { start: 4000, end: 6000 }, detach: { start: 6000, end: 6500 } },
    };
}

/** The numeric attributes of the first element with `class` and `data-<key>="<value>"`. */
function element(svg: string, cls: string, data: string): Record<string, string> {
    const m = new RegExp(`<[a-z]+ class="${cls}" ${data}([^>]*)>`).exec(svg);
    assert.ok(m, `no ${cls} ${data} in the picture`);
    return Object.fromEntries([...m[1].matchAll(/([a-z-]+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
}

describe("flip picture", () => {
    it("bins answers per generation as requests per second, failures apart", () => {
        const bins = binRates(input().answers, 0, 10_000, 1000);
        assert.equal(bins.length, 10);
        assert.deepEqual(bins[0], { start: 0, byGeneration: { g1: 10 }, failed: 0 });
        assert.deepEqual(bins[5], { start: 5000, byGeneration: { g2: 10 }, failed: 1 });
        assert.deepEqual(binRates([answer({ endedAt: 100 }), answer({ endedAt: 200 })], 0, 500, 250)[0].byGeneration, { g1: 8 });
    });

    it("is one SVG document with a step line per generation, old and new", () => {
        const svg = flipPicture(input(), { binMs: 1000, width: 1130 });
        assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="1130" /);
        assert.equal(svg.trimEnd().split("\n").at(-1), "</svg>");
        assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
        assert.match(svg, /g1 \(old\)/);
        assert.match(svg, /g2 \(new\)/);
        // x: 110 + t/10 (10 s over 1000 px); y: top 58, 260 px high, 10 requests/s at the top (grid of 2).
        const g1 = element(svg, "series", 'data-generation="g1"').points.split(" ");
        assert.equal(g1[0], "110,58");
        assert.equal(g1[9], "610,58");
        assert.equal(g1[10], "610,318"); // from 5 s on, g1 answers nothing
        const g2 = element(svg, "series", 'data-generation="g2"').points.split(" ");
        assert.equal(g2[0], "110,318");
        assert.equal(g2[10], "610,58");
    });

    it("marks each rollout step with the share asked and got, and where the rollout went back", () => {
        const base = input();
        const at = base.startedAt + 1000;
        const rollout = [
            { kind: "rollout-weights" as const, backend: "app", step: 1, percent: 10, startedAt: at, appliedAt: at, candidateWeight: 1, stableWeight: 9 },
            { kind: "rollout-window" as const, backend: "app", step: 1, percent: 10, startedAt: at, endedAt: at + 500, verdict: "fail" as const, reasons: [], candidate: { requests: 10, errors: 2, retries: 0 }, stable: { requests: 90, errors: 0, retries: 0 } },
            { kind: "rollout-weights" as const, backend: "app", step: 0, percent: 0, startedAt: at + 600, appliedAt: at + 610, candidateWeight: 0, stableWeight: 0 },
        ];
        const svg = flipPicture({ ...base, rollout });
        assert.match(svg, /class="rollout-step" data-step="1"/);
        assert.match(svg, />10%: got 10%, errors 20\.0% \/ 0\.0%</);
        assert.match(svg, /class="rollout-back"/);
        assert.doesNotMatch(flipPicture(base), /rollout-/);
    });

    it("marks each failed request where it ended", () => {
        const svg = flipPicture(input(), { binMs: 1000, width: 1130 });
        assert.equal((svg.match(/class="failed"/g) ?? []).length, 1);
        assert.match(svg, /<line class="failed" x1="615"/);
        assert.match(svg, /failed \(1\)/);
        assert.match(svg, /101 requests, 1 failed, pulumi up 9.0 s/);
    });

    it("draws every phase that ran as a band over the chart and a lane below it, in runbook order", () => {
        const svg = flipPicture(input(), { binMs: 1000, width: 1130 });
        const drain = element(svg, "phase-band", 'data-phase="drain"');
        assert.equal(drain.x, "510");
        assert.equal(drain.width, "200");
        assert.equal(element(svg, "phase-lane", 'data-phase="detach"').x, "710");
        const lanes = [...svg.matchAll(/class="phase-lane" data-phase="([a-z]+)"/g)].map((m) => m[1]);
        assert.deepEqual(lanes, ["create", "attach", "drain", "detach"]);
        assert.doesNotMatch(svg, /data-phase="snapshot"/);
    });

    it("escapes what it did not write itself", () => {
        const svg = flipPicture({ ...input(), from: "<g&1>", answers: [answer({ generation: "<g&1>" })] });
        assert.doesNotMatch(svg, /<g&1>/);
        assert.match(svg, /&lt;g&amp;1&gt; \(old\)/);
        assert.equal(escapeXml(`a"b`), "a&quot;b");
    });

    it("picks round tick steps", () => {
        assert.equal(niceStep(10, 5), 2);
        assert.equal(niceStep(43, 10), 5);
        assert.equal(niceStep(0.3, 5), 0.1);
    });

    it("takes the phases from the engine's events, the membership deletes split into drain and detach", () => {
        const urn = (type: string, name: string) => `urn:pulumi:local::haproxy-bluegreen::${type}::${name}`;
        const MEMBERSHIP = "pulumi-nodejs:dynamic/haproxy:Membership";
        const event = (kind: "resourcePreEvent" | "resOutputsEvent", op: string, name: string) =>
            ({ [kind]: { metadata: { op, type: MEMBERSHIP, urn: urn(MEMBERSHIP, name) } } }) as unknown as EngineEvent;
        const timing = (ms: number, removedAt: number) => ({ kind: "drain" as const, lb: "lb1", backend: "app", server: "x", startedAt: 1000, sessionsZeroAt: removedAt - ms, removedAt, forced: false });
        const clock = new PhaseClock();
        clock.onEvent(event("resourcePreEvent", "create", "m2"), 500);
        clock.onEvent(event("resOutputsEvent", "create", "m2"), 900);
        clock.onEvent(event("resourcePreEvent", "delete", "m1"), 1000);
        clock.onEvent(event("resOutputsEvent", "delete", "m1"), 3500);
        clock.addDrainTimings([timing(300, 3000), timing(200, 3400)]);
        assert.deepEqual(clock.bands(), {
            attach: { start: 500, end: 900 },
            drain: { start: 1000, end: 3200 },
            detach: { start: 2700, end: 3400 },
        });
    });
});
