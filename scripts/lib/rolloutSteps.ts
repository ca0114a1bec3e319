/**
 * A rollout's steps as its timings recorded them (src/provider/timings.ts): per step, the share of
 * requests the new generation really got and each generation's error rate, summed over the step's
 * analysis windows; and when the weights went back, if they did. Pure: the report, the picture, the
 * tests and the blast-radius benchmark read a rollout through it.
 */
import type { RolloutWeightsTiming, RolloutWindowTiming } from "../../src/provider/timings";

export type RolloutTiming = RolloutWindowTiming | RolloutWeightsTiming;

export interface RolloutStepSummary {
    step: number;
    percent: number;
    /** When the step's weights were on every load balancer (epoch ms). */
    appliedAt?: number;
    /** Share of the windows' requests the new generation got, in percent. */
    sharePercent: number;
    requests: number;
    /** Error rates of the new and the stable generation over the windows, in percent. */
    candidateErrorPercent: number;
    stableErrorPercent: number;
    windows: Record<RolloutWindowTiming["verdict"], number>;
}

const pct = (part: number, whole: number) => (whole === 0 ? 0 : (100 * part) / whole);

/** Each step that had windows, in order. */
export function rolloutSteps(timings: RolloutTiming[]): RolloutStepSummary[] {
    const steps = new Map<number, RolloutStepSummary & { c: number; s: number; ce: number; se: number }>();
    for (const t of timings) {
        if (t.step === 0) continue;
        const entry = steps.get(t.step) ?? { step: t.step, percent: t.percent, sharePercent: 0, requests: 0, candidateErrorPercent: 0, stableErrorPercent: 0, windows: { pass: 0, fail: 0, inconclusive: 0 }, c: 0, s: 0, ce: 0, se: 0 };
        if (t.kind === "rollout-weights") entry.appliedAt = t.appliedAt;
        else {
            entry.windows[t.verdict] += 1;
            entry.c += t.candidate.requests;
            entry.s += t.stable.requests;
            entry.ce += t.candidate.errors;
            entry.se += t.stable.errors;
        }
        steps.set(t.step, entry);
    }
    return [...steps.values()]
        .sort((a, b) => a.step - b.step)
        .map(({ c, s, ce, se, ...rest }) => ({ ...rest, sharePercent: pct(c, c + s), requests: c + s, candidateErrorPercent: pct(ce, c), stableErrorPercent: pct(se, s) }));
}

/** When the weights went back to the stable generation (epoch ms), if they did. */
export function wentBackAt(timings: RolloutTiming[]): number | undefined {
    return timings.find((t): t is RolloutWeightsTiming => t.kind === "rollout-weights" && t.step === 0)?.appliedAt;
}

/** One line per step, for reports. */
export function formatRolloutSteps(timings: RolloutTiming[], origin: number): string[] {
    const lines = rolloutSteps(timings).map(
        (s) =>
            `  step ${s.step} (${s.percent}%): the new generation got ${s.sharePercent.toFixed(1)}% of ${s.requests} requests; errors new ${s.candidateErrorPercent.toFixed(2)}%, stable ${s.stableErrorPercent.toFixed(2)}%; ` +
            `windows ${s.windows.pass} passed, ${s.windows.fail} failed, ${s.windows.inconclusive} inconclusive`,
    );
    const back = wentBackAt(timings);
    if (back !== undefined) lines.push(`  went back to the stable generation at ${((back - origin) / 1000).toFixed(1)} s`);
    return lines;
}
