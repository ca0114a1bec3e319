/**
 * Step timings as structured data: a provider appends one JSON line per finished step to the file the
 * environment variable `BLUEGREEN_TIMINGS_FILE` names (set by whoever runs `pulumi up`, e.g. the flip
 * harness, and inherited by the dynamic-provider host). Without the variable nothing is written.
 */
import { appendFileSync, readFileSync } from "node:fs";

/** The environment variable naming the timings file. */
export const TIMINGS_FILE_ENV = "BLUEGREEN_TIMINGS_FILE";

/** One server's drain and detach on one load balancer (epoch ms). */
export interface DrainTiming {
    kind: "drain";
    lb: string;
    backend: string;
    server: string;
    /** When the drain started on this load balancer. */
    startedAt: number;
    /** When the sessions were at zero for good (the start of the quiet period that ended the drain). */
    sessionsZeroAt: number;
    /** When the server was deleted; absent if no process had it any more. */
    removedAt?: number;
    /** Sessions were shut down at the drain timeout. */
    forced: boolean;
}

/** One app server's start: its process spawned, then accepting connections (epoch ms). */
export interface StartTiming {
    kind: "start";
    server: string;
    spawnedAt: number;
    listeningAt: number;
}

/** One analysis window of a rollout step, summed over every load balancer (rollout/analysis.ts). */
export interface RolloutWindowTiming {
    kind: "rollout-window";
    backend: string;
    /** 1-based step number, and its percent. */
    step: number;
    percent: number;
    startedAt: number;
    endedAt: number;
    candidate: { requests: number; errors: number; retries: number; responseTimeMs?: number };
    stable: { requests: number; errors: number; retries: number; responseTimeMs?: number };
    verdict: "pass" | "fail" | "inconclusive";
    /** Why it failed or was inconclusive. */
    reasons: string[];
}

/** A rollout's weights changed on every load balancer: a step began, or the rollout went back (`step` 0). */
export interface RolloutWeightsTiming {
    kind: "rollout-weights";
    backend: string;
    step: number;
    percent: number;
    /** When the change began, and when every load balancer had it. */
    startedAt: number;
    appliedAt: number;
    candidateWeight: number;
    /** The stable servers' weight (on the first load balancer: each computes its own from its stable servers). */
    stableWeight: number;
}

export type StepTiming = DrainTiming | StartTiming | RolloutWindowTiming | RolloutWeightsTiming;

/** Appends `timing` to the timings file, if one is named. Never throws: timings must not fail an update. */
export function recordTiming(timing: StepTiming, env: NodeJS.ProcessEnv = process.env): void {
    const file = env[TIMINGS_FILE_ENV];
    if (!file) return;
    try {
        appendFileSync(file, `${JSON.stringify(timing)}\n`);
    } catch {
        // A timings file that cannot be written loses the figures, not the update.
    }
}

/** The timings in `file` (none if it does not exist). */
export function readTimings(file: string): StepTiming[] {
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch {
        return [];
    }
    return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as StepTiming);
}
