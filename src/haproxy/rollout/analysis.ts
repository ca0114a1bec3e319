/**
 * The analysis of one window of a bake: the new generation's counters against the stable generation's,
 * over the same window, as differences between two readings of every load balancer. Pure functions; the
 * rollout (rollout.ts) reads the counters and acts on the verdict.
 *
 * Response times are HAProxy's own averages over each server's last 1024 responses (`rtime`): a server
 * that answered fewer has an average over a handful, which one slow request (a long poll, a download)
 * skews. So a server's response time counts only once it answered 1024; without such servers on both
 * sides the response-time comparison is left out of the window's verdict.
 *
 * A window is inconclusive, never a pass, when the new generation got fewer than `minRequests` requests
 * or when any load balancer's counters started again (a reload, a server re-added) during it.
 */
import type { CounterReading, ServerCounters } from "./counters";
import type { AnalysisSettings } from "./rolloutSpec";

/** What one generation did in a window. */
export interface GenerationWindow {
    /** Requests that got a response or failed (responses + failed responses + failed connections). */
    requests: number;
    /** 5xx responses, failed responses and failed connections. */
    errors: number;
    /** Retries and redispatches. */
    retries: number;
    /** Average response time, weighted by each server's requests, in ms; `undefined` without requests from servers that answered RESPONSE_TIME_SAMPLE. */
    responseTimeMs?: number;
}

/** One window, summed over every load balancer, with each load balancer's own figures. */
export interface WindowMeasurement {
    startedAt: number;
    endedAt: number;
    candidate: GenerationWindow;
    stable: GenerationWindow;
    perLb: { lb: string; candidate: GenerationWindow; stable: GenerationWindow }[];
    /** Why the counters cannot be compared (a load balancer's counters started again). */
    reset?: string;
}

export type Verdict = { result: "pass" } | { result: "fail"; reasons: string[] } | { result: "inconclusive"; reason: string };

/** How many responses HAProxy averages `rtime` over: below it, a server's average is not comparable. */
export const RESPONSE_TIME_SAMPLE = 1024;

const EMPTY: GenerationWindow = { requests: 0, errors: 0, retries: 0 };

function requestsOf(c: ServerCounters): number {
    return c.responses + c.responseErrors + c.connectionErrors;
}

/** What `servers` did between two readings of one load balancer; `undefined` if a counter went down (a reset). */
function delta(start: CounterReading, end: CounterReading, servers: readonly string[]): GenerationWindow | undefined {
    let requests = 0;
    let errors = 0;
    let retries = 0;
    let timed = 0;
    let timeSum = 0;
    for (const name of servers) {
        const a = start.servers.get(name);
        const b = end.servers.get(name);
        if (!a || !b) {
            if (a || b) return undefined; // added or removed during the window: its counters cannot be compared
            continue;
        }
        const d = {
            requests: requestsOf(b) - requestsOf(a),
            errors: b.responses5xx + b.responseErrors + b.connectionErrors - (a.responses5xx + a.responseErrors + a.connectionErrors),
            retries: b.retries - a.retries,
        };
        if (d.requests < 0 || d.errors < 0 || d.retries < 0) return undefined;
        requests += d.requests;
        errors += d.errors;
        retries += d.retries;
        if (d.requests > 0 && b.responseTimeMs !== undefined && b.responses >= RESPONSE_TIME_SAMPLE) {
            timed += d.requests;
            timeSum += d.requests * b.responseTimeMs;
        }
    }
    return { requests, errors, retries, ...(timed > 0 ? { responseTimeMs: timeSum / timed } : {}) };
}

function add(a: GenerationWindow, b: GenerationWindow): GenerationWindow {
    const timedA = a.responseTimeMs === undefined ? 0 : a.requests;
    const timedB = b.responseTimeMs === undefined ? 0 : b.requests;
    const timed = timedA + timedB;
    const time = timed === 0 ? undefined : ((a.responseTimeMs ?? 0) * timedA + (b.responseTimeMs ?? 0) * timedB) / timed;
    return { requests: a.requests + b.requests, errors: a.errors + b.errors, retries: a.retries + b.retries, ...(time === undefined ? {} : { responseTimeMs: time }) };
}

/** The window between two readings of every load balancer (`start` and `end` in the same order). */
export function measureWindow(start: CounterReading[], end: CounterReading[], candidate: readonly string[], stable: readonly string[]): WindowMeasurement {
    const perLb: WindowMeasurement["perLb"] = [];
    const resets: string[] = [];
    for (const a of start) {
        const b = end.find((r) => r.lb === a.lb);
        if (!b) continue;
        if (a.process !== b.process) {
            resets.push(`${a.lb}: another HAProxy process (${a.process} -> ${b.process})`);
            continue;
        }
        const c = delta(a, b, candidate);
        const s = delta(a, b, stable);
        if (!c || !s) {
            resets.push(`${a.lb}: a server's counters started again, or were not there at both ends of the window`);
            continue;
        }
        perLb.push({ lb: a.lb, candidate: c, stable: s });
    }
    return {
        startedAt: Math.min(...start.map((r) => r.at)),
        endedAt: Math.max(...end.map((r) => r.at)),
        candidate: perLb.reduce((sum, l) => add(sum, l.candidate), EMPTY),
        stable: perLb.reduce((sum, l) => add(sum, l.stable), EMPTY),
        perLb,
        ...(resets.length > 0 ? { reset: resets.join("; ") } : {}),
    };
}

function rate(part: number, whole: number): number {
    return whole === 0 ? 0 : part / whole;
}

/** `1.25%` */
export function percent(value: number): string {
    return `${(value * 100).toFixed(2)}%`;
}

/** The verdict on one window. Comparisons with the stable generation need it to have got `minRequests` too. */
export function judgeWindow(window: WindowMeasurement, settings: AnalysisSettings): Verdict {
    if (window.reset) return { result: "inconclusive", reason: `counters started again: ${window.reset}` };
    const { candidate: c, stable: s } = window;
    if (c.requests < settings.minRequests) {
        return { result: "inconclusive", reason: `the new generation got ${c.requests} requests, fewer than minRequests ${settings.minRequests}` };
    }
    const reasons: string[] = [];
    const errorRate = rate(c.errors, c.requests);
    const stableMeasured = s.requests >= settings.minRequests;
    const stableRate = rate(s.errors, s.requests);
    if (errorRate > settings.maxErrorRate) reasons.push(`error rate ${percent(errorRate)} (${c.errors} of ${c.requests}) above maxErrorRate ${percent(settings.maxErrorRate)}`);
    if (stableMeasured && errorRate - stableRate > settings.maxErrorRateIncrease) {
        reasons.push(`error rate ${percent(errorRate)} is ${percent(errorRate - stableRate)} above the stable generation's ${percent(stableRate)} (${s.errors} of ${s.requests}), more than maxErrorRateIncrease ${percent(settings.maxErrorRateIncrease)}`);
    }
    const retryRate = rate(c.retries, c.requests);
    if (retryRate > settings.maxRetryRate) reasons.push(`retries and redispatches ${percent(retryRate)} (${c.retries} of ${c.requests}) above maxRetryRate ${percent(settings.maxRetryRate)}`);
    if (stableMeasured && c.responseTimeMs !== undefined && s.responseTimeMs !== undefined) {
        const slower = c.responseTimeMs - s.responseTimeMs;
        if (slower > settings.responseTimeSlackMs && c.responseTimeMs > s.responseTimeMs * settings.maxResponseTimeRatio) {
            reasons.push(`response time ${c.responseTimeMs.toFixed(0)} ms, more than ${settings.maxResponseTimeRatio} times the stable generation's ${s.responseTimeMs.toFixed(0)} ms`);
        }
    }
    return reasons.length > 0 ? { result: "fail", reasons } : { result: "pass" };
}

/**
 * The verdict on a window still under way, only when it already fails: `judgeWindow`'s fail once the new
 * generation got `minRequests`, or before that, errors that already exceed what `maxErrorRate` allows
 * over `minRequests` requests (with the defaults, one error: 1% of 20 is 0.2), which no success to come
 * can bring back under the ceiling at `minRequests`.
 */
export function judgeEarly(window: WindowMeasurement, settings: AnalysisSettings): Verdict | undefined {
    if (window.reset) return undefined;
    const verdict = judgeWindow(window, settings);
    if (verdict.result === "fail") return verdict;
    const { errors, requests } = window.candidate;
    if (requests < settings.minRequests && errors > settings.maxErrorRate * settings.minRequests) {
        return { result: "fail", reasons: [`${errors} error${errors === 1 ? "" : "s"} in the new generation's first ${requests} requests, more than maxErrorRate ${percent(settings.maxErrorRate)} of minRequests ${settings.minRequests} allows`] };
    }
    return undefined;
}

/** One line for progress and reports: requests, errors and share per generation. */
export function describeWindow(window: WindowMeasurement): string {
    const { candidate: c, stable: s } = window;
    const share = rate(c.requests, c.requests + s.requests);
    const gen = (g: GenerationWindow) => `${g.requests} requests, ${percent(rate(g.errors, g.requests))} errors${g.responseTimeMs === undefined ? "" : `, ${g.responseTimeMs.toFixed(0)} ms`}`;
    return `new ${gen(c)}; stable ${gen(s)}; new share ${percent(share)} over ${((window.endedAt - window.startedAt) / 1000).toFixed(1)} s`;
}
