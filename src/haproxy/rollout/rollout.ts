/**
 * A progressive rollout of a new generation (runbook step 11, in steps), run by the PoolMembership's
 * create: the new servers attach at weight 0; each step gives them its share of new traffic on every
 * load balancer and bakes, one analysis window after another (analysis.ts), until enough windows passed;
 * the last step (100%) keeps the stable generation attached at weight 0, so going back is instant. Then
 * the create returns, and the engine drains the old generation as in any flip.
 *
 * A failed analysis (more failed windows than `failureLimit`), or a bake still inconclusive at the end
 * of its extension, goes back: the stable generation's full weights first, then the new generation's 0,
 * on every load balancer at once; then (`rollback`) the new generation drains and detaches, or (`fail`)
 * it stays attached at weight 0. The create fails with the measurements, so the stack records no new
 * membership: a re-run tries the rollout again from its first step; setting `generation` back removes
 * the failed generation's servers like any other.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { accessTo, firstLine } from "../loadBalancerAccess";
import type { LoadBalancerRef, MembershipSpec } from "../membershipSpec";
import { attach, describeServers, detachAll } from "../membershipSteps";
import { progress } from "../../provider/providerLog";
import { recordTiming } from "../../provider/timings";
import { describeWindow, judgeEarly, judgeWindow, measureWindow, type Verdict, type WindowMeasurement } from "./analysis";
import type { CounterReading, MetricSource } from "./counters";
import { describeRollout, type RolloutSpec, type RolloutStep } from "./rolloutSpec";
import { setCandidateWeights, setStableWeights, stableServersOn, type StableServer } from "./stableServers";
import { prometheusSource } from "./prometheusSource";
import { statCounters } from "./statCounters";
import { shareOf, stepWeights } from "./weights";

/** How often a window's counters are read before its end, to end a failing window early, in ms. */
const FAIL_FAST_POLL_MS = 250;

/** Raised when a rollout went back: its message holds the measurements that decided it. */
export class RolloutFailedError extends Error {
    readonly name = "RolloutFailedError";
}

/** One load balancer's part in the rollout. */
interface Lane {
    lb: LoadBalancerRef;
    stable: StableServer[];
}

/** The stable servers' names on any of `lanes`' load balancers, sorted. */
function stableNamesOf(lanes: Lane[]): string[] {
    return [...new Set(lanes.flatMap((l) => l.stable.map((s) => s.name)))].sort();
}

/** Rolls `members` out on `lbs` as `rollout` says; returns once they serve at full weight, or throws RolloutFailedError. */
export async function rollOut(members: MembershipSpec[], lbs: LoadBalancerRef[], rollout: RolloutSpec): Promise<void> {
    const [first] = members;
    const scope = rollout.replacesOwnersStartingWith;
    const lanes: Lane[] = await Promise.all(lbs.map(async (lb) => ({ lb, stable: await stableServersOn(accessTo(lb, first), first, scope) })));
    if (lanes.every((l) => l.stable.length === 0)) {
        progress(`${describeServers(members)}: no stable generation of this stack in the backend to shift traffic from; attaching at full weight`);
        await attach(members, lbs);
        return;
    }
    const stableNames = stableNamesOf(lanes);
    progress(`${describeServers(members)}: rollout against ${stableNames.join(", ")}: ${describeRollout(rollout)}`);
    const metrics = rollout.prometheus ? prometheusSource(rollout.prometheus) : statCounters(new Map(lbs.map((lb) => [lb.name, accessTo(lb, first).client])));
    const lbNames = lbs.map((lb) => lb.name);
    // Before anything changes, and of the stable servers only: they prove the source's labels, and
    // Prometheus cannot have scraped the new servers yet (a window without their counters is inconclusive).
    await metrics.preflight(first.backend, stableNames, lbNames);
    // A rollout killed halfway may have left the stable generation below its full weight (at 0 in the last
    // step): it serves at full weight again before the new servers attach at weight 0, so that no moment
    // has the backend's weight gone.
    await Promise.all(lanes.map((lane) => setStableWeights(accessTo(lane.lb, first), first, scope, lane.stable, (s) => s.fullWeight)));
    await attach(
        members.map((m) => ({ ...m, weight: 0 })),
        lbs,
    );
    const run = new RolloutRun(members, lanes, rollout, metrics);
    try {
        for (const [i, step] of rollout.steps.entries()) await run.step(i + 1, step);
    } catch (err) {
        await run.goBack(err);
    }
}

class RolloutRun {
    private failures = 0;
    /** The share of the weights set last, in percent. */
    private percent = 0;

    /** Names of the new servers, of the stable ones on any load balancer, and of the load balancers. */
    private readonly candidates: string[];
    private readonly stable: string[];
    private readonly lbNames: string[];

    constructor(
        private readonly members: MembershipSpec[],
        private readonly lanes: Lane[],
        private readonly rollout: RolloutSpec,
        private readonly metrics: MetricSource,
    ) {
        this.candidates = members.map((m) => m.server);
        this.stable = stableNamesOf(lanes);
        this.lbNames = lanes.map((l) => l.lb.name);
    }

    private get backend(): string {
        return this.members[0].backend;
    }

    /** The weights of `percent` on one load balancer: per new server, and per stable server (its full weight at 0%). */
    private weightsOf(lane: Lane, percent: number): { candidate: number; stableOf: (s: StableServer) => number; share: number } {
        const w = stepWeights(percent, this.members.length, lane.stable.length, this.members[0].weight);
        return { candidate: w.candidate, stableOf: (s) => (percent === 0 ? s.fullWeight : w.stable), share: shareOf(w, this.members.length, lane.stable.length) };
    }

    /** Sets the weights of `percent` on one load balancer: the side that gains first, then the side that loses. */
    private async applyOn(lane: Lane, percent: number): Promise<void> {
        const access = accessTo(lane.lb, this.members[0]);
        const w = this.weightsOf(lane, percent);
        const candidatesSide = () => setCandidateWeights(access, this.members, w.candidate);
        const stableSide = () => setStableWeights(access, this.members[0], this.rollout.replacesOwnersStartingWith, lane.stable, w.stableOf);
        for (const side of percent === 0 ? [stableSide, candidatesSide] : [candidatesSide, stableSide]) await side();
    }

    /** Sets the weights of `percent` on every load balancer at once. */
    private async applyWeights(step: number, percent: number): Promise<void> {
        const startedAt = Date.now();
        this.percent = percent;
        await Promise.all(
            this.lanes.map(async (lane) => {
                await this.applyOn(lane, percent);
                const w = this.weightsOf(lane, percent);
                progress(`${lane.lb.name}: ${this.backend} at ${percent}% new: new servers weight ${w.candidate}, stable ${percent === 0 ? "full weight" : `weight ${w.stableOf(lane.stable[0])}`} (share ${(w.share * 100).toFixed(1)}%)`);
            }),
        );
        const first = this.weightsOf(this.lanes[0], percent);
        recordTiming({ kind: "rollout-weights", backend: this.backend, step, percent, startedAt, appliedAt: Date.now(), candidateWeight: first.candidate, stableWeight: this.lanes[0].stable.length > 0 ? first.stableOf(this.lanes[0].stable[0]) : 0 });
    }

    /**
     * Makes every load balancer have the step's weights again where HAProxy says otherwise (someone's
     * `set weight`, an agent check); a reload keeps them already (the servers file). A load balancer
     * that cannot be asked now is left to the next window.
     */
    private async repairWeights(): Promise<void> {
        await Promise.all(
            this.lanes.map(async (lane) => {
                const w = this.weightsOf(lane, this.percent);
                // The configured weight (`srv_uweight`), not show stat's effective one, which slowstart lowers for a while.
                const rows = await accessTo(lane.lb, this.members[0]).client.showServersState(this.backend).catch(() => undefined);
                if (!rows) return;
                const weightOf = (name: string) => rows.find((r) => r.be_name === this.backend && r.srv_name === name)?.srv_uweight;
                const off = [
                    ...this.candidates.filter((c) => weightOf(c) !== w.candidate).map((c) => `${c} weight ${weightOf(c)}`),
                    ...lane.stable.filter((s) => weightOf(s.name) !== w.stableOf(s)).map((s) => `${s.name} weight ${weightOf(s.name)}`),
                ];
                if (off.length === 0) return;
                progress(`${lane.lb.name}: ${this.backend}: ${off.join(", ")}, not the step's: setting the step's weights again`);
                await this.applyOn(lane, this.percent);
            }),
        );
    }

    private async read(): Promise<CounterReading[]> {
        return this.metrics.read(this.backend, [...this.candidates, ...this.stable], this.lbNames);
    }

    /**
     * One window: counters at its start and end, and the verdict. The counters are also read every
     * `FAIL_FAST_POLL_MS` in between: a window that already fails (analysis.ts, `judgeEarly`) ends there,
     * so a bad release goes back as soon as there is enough evidence (a pass still needs the whole window).
     * A reading that fails makes the window inconclusive.
     */
    private async window(): Promise<{ measurement?: WindowMeasurement; verdict: Verdict }> {
        const { windowMs } = this.rollout.analysis;
        const endsAt = Date.now() + windowMs;
        let start: CounterReading[];
        try {
            start = await this.read();
        } catch (err) {
            await sleep(Math.max(0, endsAt - Date.now()));
            return { verdict: { result: "inconclusive", reason: `counters could not be read: ${firstLine(err)}` } };
        }
        for (;;) {
            const last = Date.now() + FAIL_FAST_POLL_MS >= endsAt;
            await sleep(Math.max(0, last ? endsAt - Date.now() : FAIL_FAST_POLL_MS));
            try {
                const measurement = measureWindow(start, await this.read(), this.candidates, this.stable);
                const verdict = last ? judgeWindow(measurement, this.rollout.analysis) : judgeEarly(measurement, this.rollout.analysis);
                if (verdict) return { measurement, verdict };
            } catch (err) {
                if (last) return { verdict: { result: "inconclusive", reason: `counters could not be read: ${firstLine(err)}` } };
            }
        }
    }

    /** Step `n`: its weights, then windows until enough passed, too many failed, or the extension ran out. */
    async step(n: number, step: RolloutStep): Promise<void> {
        const { analysis, steps } = this.rollout;
        await this.applyWeights(n, step.percent);
        const needed = Math.ceil(step.bakeMs / analysis.windowMs);
        const giveUpAt = Date.now() + step.bakeMs + analysis.inconclusiveExtensionMs;
        let passed = 0;
        const shares = { candidate: 0, stable: 0 };
        const where = `${this.backend} step ${n}/${steps.length} (${step.percent}%)`;
        while (passed < needed) {
            await this.repairWeights();
            const { measurement, verdict } = await this.window();
            const reasons = verdict.result === "fail" ? verdict.reasons : verdict.result === "inconclusive" ? [verdict.reason] : [];
            if (measurement) {
                recordTiming({ kind: "rollout-window", backend: this.backend, step: n, percent: step.percent, startedAt: measurement.startedAt, endedAt: measurement.endedAt, candidate: measurement.candidate, stable: measurement.stable, verdict: verdict.result, reasons });
            }
            progress(`${where}: window ${verdict.result}${measurement ? `: ${describeWindow(measurement)}` : ""}${reasons.length > 0 ? ` (${reasons.join("; ")})` : ""}`);
            if (verdict.result === "pass" && measurement) {
                passed += 1;
                shares.candidate += measurement.candidate.requests;
                shares.stable += measurement.stable.requests;
            } else if (verdict.result === "fail") {
                this.failures += 1;
                if (this.failures > analysis.failureLimit) throw new RolloutFailedError(`${where}: the analysis failed (${this.failures} failed windows, failureLimit ${analysis.failureLimit}):\n  ${failedWindow(measurement, reasons)}`);
            } else if (Date.now() >= giveUpAt) {
                throw new InconclusiveError(`${where}: the bake was still inconclusive ${(step.bakeMs + analysis.inconclusiveExtensionMs) / 1000} s after the step began (${passed} of ${needed} windows passed; last: ${reasons.join("; ")})`);
            }
        }
        const share = shares.candidate / Math.max(1, shares.candidate + shares.stable);
        progress(`${where}: passed ${passed} windows; the new generation got ${(share * 100).toFixed(1)}% of ${shares.candidate + shares.stable} requests`);
    }

    /** Back to the stable generation: its full weights, the new one at 0, then drained and detached unless the policy keeps it. */
    async goBack(cause: unknown): Promise<never> {
        const why = `rollout of ${describeServers(this.members)} went back: ${(cause as Error)?.message ?? String(cause)}`;
        const keep = cause instanceof InconclusiveError && this.rollout.analysis.onInconclusive === "fail";
        const startedAt = Date.now();
        try {
            await this.applyWeights(0, 0);
            const back = `the stable generation back at full weight and the new one at weight 0 in ${Date.now() - startedAt} ms`;
            if (!keep) await detachAll(this.members, this.lanes.map((l) => l.lb));
            throw new RolloutFailedError(`${why}\n${back}; ${keep ? "the new generation stays attached at weight 0 (onInconclusive: fail)" : "the new generation drained and detached"}`);
        } catch (err) {
            if (err instanceof RolloutFailedError) throw err;
            throw new RolloutFailedError(`${why}\nand going back did not finish: ${(err as Error).message}\nthe next pulumi up starts the rollout again from its first step (the stable servers' full weights stay in their servers-file lines)`);
        }
    }
}

/** Raised when a bake stays inconclusive past its extension. */
class InconclusiveError extends Error {
    readonly name = "InconclusiveError";
}

/** A failed window for the error message: the whole and per load balancer. */
function failedWindow(measurement: WindowMeasurement | undefined, reasons: string[]): string {
    if (!measurement) return reasons.join("; ");
    const span = `${new Date(measurement.startedAt).toISOString()} .. ${new Date(measurement.endedAt).toISOString()}`;
    const per = measurement.perLb.map((l) => `${l.lb}: new ${l.candidate.errors}/${l.candidate.requests} errors, stable ${l.stable.errors}/${l.stable.requests}`).join("; ");
    return `${reasons.join("; ")}\n  window ${span}: ${describeWindow(measurement)}\n  ${per}`;
}
