/**
 * The flip report and phase clock, on made-up traffic and engine events.
 */
import * as assert from "node:assert/strict";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { PhaseClock, phaseOf } from "../../../scripts/lib/phases";
import { formatReport, longCompletedOnOld, summaryLine, timeline, type FlipFacts } from "../../../scripts/lib/report";
import { nextGeneration } from "../../../scripts/lib/flip";
import type { Answer } from "../../../scripts/lib/traffic";

const answer = (a: Partial<Answer>): Answer => ({ kind: "short", url: "http://lb/", startedAt: 0, endedAt: 10, status: 200, generation: "g1", server: "app-g1-0", ...a });

function facts(answers: Answer[]): FlipFacts {
    const failed = answers.filter((a) => a.error);
    return {
        from: "g1",
        to: "g2",
        traffic: { answers, total: answers.length, failed },
        startedAt: 0,
        endedAt: 12_340,
        drainStartedAt: 5000,
        phases: { snapshot: 0.1, migration: 0.2, create: 1, gate: 0.5, attach: 0.4, smoke: 0.1, drain: 3, detach: 0.05, terminate: 0.3 },
        membership: [{ lb: "lb1", servers: [{ name: "app-g2-0", status: "UP" }] }],
    };
}

describe("flip report", () => {
    it("shows each rollout step's share asked and got, and each generation's errors, and when it went back", () => {
        const window = (step: number, percent: number, newRequests: number, newErrors: number, verdict: "pass" | "fail") => ({
            kind: "rollout-window" as const, backend: "app", step, percent, startedAt: 0, endedAt: 1000, verdict, reasons: [],
            candidate: { requests: newRequests, errors: newErrors, retries: 0 }, stable: { requests: 100 - newRequests, errors: 0, retries: 0 },
        });
        const weights = (step: number, percent: number, at: number) => ({ kind: "rollout-weights" as const, backend: "app", step, percent, startedAt: at, appliedAt: at + 5, candidateWeight: 1, stableWeight: 9 });
        const rollout = [weights(1, 10, 1000), window(1, 10, 10, 0, "pass"), window(1, 10, 11, 0, "pass"), weights(2, 50, 3000), window(2, 50, 50, 10, "fail"), weights(0, 0, 4000)];
        const report = formatReport({ ...facts([answer({})]), rollout });
        assert.match(report, /step 1 \(10%\): the new generation got 10\.5% of 200 requests; errors new 0\.00%, stable 0\.00%; windows 2 passed, 0 failed, 0 inconclusive/);
        assert.match(report, /step 2 \(50%\): the new generation got 50\.0% of 100 requests; errors new 20\.00%, stable 0\.00%; windows 0 passed, 1 failed/);
        assert.match(report, /went back to the stable generation at 4\.0 s/);
    });

    it("counts long requests in flight on the old generation when the drain started", () => {
        const answers = [
            answer({ kind: "long", startedAt: 1000, endedAt: 5500 }), // in flight at 5000, old: counts
            answer({ kind: "long", startedAt: 1000, endedAt: 4000 }), // ended before the drain
            answer({ kind: "long", startedAt: 4500, endedAt: 8000, generation: "g2" }), // new generation
            answer({ kind: "long", startedAt: 4500, endedAt: 8000, status: 502, error: "HTTP 502" }),
        ];
        assert.equal(longCompletedOnOld(facts(answers)).length, 1);
    });

    it("ends with the summary line in its exact form", () => {
        const answers = [answer({}), answer({ error: "socket hang up", status: undefined }), answer({ kind: "long", startedAt: 4000, endedAt: 6000 })];
        const report = formatReport(facts(answers));
        assert.equal(summaryLine(facts(answers)), "flip g1 -> g2: 3 requests, 1 failed, 1 long requests completed on g1, 12.3 s");
        assert.equal(report.split("\n").at(-1), summaryLine(facts(answers)));
        assert.match(report, /failed short http:\/\/lb\/ after 10 ms: socket hang up/);
        assert.match(report, /lb1: app-g2-0 UP/);
    });

    it("groups answers per second and generation", () => {
        const rows = timeline([answer({ endedAt: 100 }), answer({ endedAt: 900, generation: "g2" }), answer({ endedAt: 1500 })], 0);
        assert.deepEqual(rows, [
            { second: 0, byGeneration: { g1: 1, g2: 1 }, failed: 0 },
            { second: 1, byGeneration: { g1: 1 }, failed: 0 },
        ]);
    });

    it("names the next generation", () => {
        assert.equal(nextGeneration("g1"), "g2");
        assert.equal(nextGeneration("g9"), "g10");
        assert.equal(nextGeneration("blue"), "blue2");
    });
});

describe("phase clock", () => {
    const urn = (type: string, name: string) => `urn:pulumi:local::haproxy-bluegreen::${type}::${name}`;
    const pre = (op: string, type: string, name: string): EngineEvent =>
        ({ sequence: 0, timestamp: 0, resourcePreEvent: { metadata: { op, type, urn: urn(type, name) } } }) as unknown as EngineEvent;
    const out = (op: string, type: string, name: string): EngineEvent =>
        ({ sequence: 0, timestamp: 0, resOutputsEvent: { metadata: { op, type, urn: urn(type, name) } } }) as unknown as EngineEvent;
    const MEMBERSHIP = "pulumi-nodejs:dynamic/haproxy:Membership";

    it("classifies steps into runbook phases", () => {
        assert.equal(phaseOf(MEMBERSHIP, "create", urn(MEMBERSHIP, "site-member-g2-0")), "attach");
        assert.equal(phaseOf(MEMBERSHIP, "delete", urn(MEMBERSHIP, "site-member-g1-0")), "drain");
        assert.equal(phaseOf("pulumi-nodejs:dynamic/gate:HealthGate", "create", urn("x", "site-smoke-g2")), "smoke");
        assert.equal(phaseOf("pulumi-nodejs:dynamic/gate:HealthGate", "create", urn("x", "site-pool-g2-gate")), "gate");
        assert.equal(phaseOf("aws:ec2/instance:Instance", "delete", urn("x", "site-pool-g1-0")), "terminate");
        assert.equal(phaseOf(MEMBERSHIP, "same", urn(MEMBERSHIP, "site-member-g2-0")), undefined);
        // The database steps: the local target's PostgreSQL dump and SQL migration, aws's EBS or RDS snapshots.
        for (const type of ["pulumi-nodejs:dynamic/local:Snapshot", "aws:ebs/snapshot:Snapshot", "aws:rds/snapshot:Snapshot", "aws:rds/clusterSnapshot:ClusterSnapshot"]) {
            assert.equal(phaseOf(type, "create", urn(type, "site-snapshot-0002-volume")), "snapshot", type);
        }
        assert.equal(phaseOf("pulumi-nodejs:dynamic/local:Migration", "create", urn("x", "site-migration-0002-run")), "migration");
        assert.equal(phaseOf("pulumi-nodejs:dynamic/local:Database", "create", urn("x", "site-db")), undefined, "the database itself is not a runbook step");
    });

    it("spans each phase from its first start to its last end and splits drain from detach", () => {
        const clock = new PhaseClock();
        clock.onEvent(pre("delete", MEMBERSHIP, "m0"), 1000);
        clock.onEvent(pre("delete", MEMBERSHIP, "m1"), 1100);
        clock.addDrainTimings([{ kind: "drain", lb: "lb1", backend: "app", server: "app-g1-0", startedAt: 1060, sessionsZeroAt: 3560, removedAt: 3600, forced: false }]);
        clock.onEvent(out("delete", MEMBERSHIP, "m0"), 3600);
        clock.onEvent(out("delete", MEMBERSHIP, "m1"), 4000);
        const s = clock.seconds();
        assert.equal(s.detach, 0.04);
        assert.equal(Number(s.drain?.toFixed(2)), 2.96);
        assert.equal(clock.drainStartedAt, 1000);
        assert.equal(s.attach, undefined);
    });

    it("spans the new servers' own start over the pool and every step from the first start to the last end", () => {
        const clock = new PhaseClock();
        assert.equal(clock.stepsSpan, undefined);
        assert.equal(clock.appStartSeconds, 0);
        clock.onEvent(pre("create", MEMBERSHIP, "m0"), 2000);
        clock.onEvent(pre("delete", MEMBERSHIP, "m1"), 5000);
        clock.onEvent(out("create", MEMBERSHIP, "m0"), 2500);
        clock.onEvent(out("delete", MEMBERSHIP, "m1"), 7000);
        clock.addStartTimings([
            { kind: "start", server: "app-g2-0", spawnedAt: 1000, listeningAt: 1300 },
            { kind: "start", server: "app-g2-1", spawnedAt: 1100, listeningAt: 1750 },
        ]);
        assert.deepEqual(clock.stepsSpan, { start: 2000, end: 7000 });
        assert.equal(clock.appStartSeconds, 0.75);
    });
});
