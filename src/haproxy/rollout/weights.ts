/**
 * The weights of one rollout step: every new server gets one weight and every stable server another, so
 * that the new generation's share of new traffic (its weights over the backend's sum) is as close to the
 * step's percent as HAProxy's 0..256 allows. Traffic that carries a persistence cookie is not shared by
 * weight: it stays with its server while that server serves (even at weight 0).
 */

/** Per-server weights of one step. */
export interface StepWeights {
    candidate: number;
    stable: number;
}

/** HAProxy's highest weight. */
const MAX_WEIGHT = 256;

/**
 * The weights giving `candidates` new servers `percent` of the traffic against `stables` stable ones;
 * 100 percent is the new servers' full weight (`candidateFull`) and the stable ones at 0. Without stable
 * servers (a load balancer the old generation is not on) the new ones keep their full weight at every
 * step, going back included: there is nothing to shift from, and weight 0 would leave nothing serving.
 */
export function stepWeights(percent: number, candidates: number, stables: number, candidateFull: number): StepWeights {
    if (percent >= 100 || stables === 0) return { candidate: candidateFull, stable: 0 };
    if (percent <= 0) return { candidate: 0, stable: 1 };
    const wanted = percent / 100;
    let best: StepWeights & { error: number } = { candidate: 1, stable: 1, error: Infinity };
    for (let a = 1; a <= MAX_WEIGHT; a++) {
        // The stable weight nearest the wanted share for this candidate weight, then its neighbours.
        const ideal = (candidates * a * (1 - wanted)) / (wanted * stables);
        for (const b of [Math.floor(ideal), Math.ceil(ideal)]) {
            if (b < 1 || b > MAX_WEIGHT) continue;
            const error = Math.abs(shareOf({ candidate: a, stable: b }, candidates, stables) - wanted);
            if (error < best.error - 1e-12) best = { candidate: a, stable: b, error };
        }
    }
    return { candidate: best.candidate, stable: best.stable };
}

/** The new servers' share of new traffic with these weights, 0 to 1. */
export function shareOf(weights: StepWeights, candidates: number, stables: number): number {
    const total = weights.candidate * candidates + weights.stable * stables;
    return total === 0 ? 0 : (weights.candidate * candidates) / total;
}
