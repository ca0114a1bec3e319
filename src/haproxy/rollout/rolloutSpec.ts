/**
 * A progressive rollout's settings (runbook step 11, in steps): the new generation attaches at weight 0,
 * then each step gives it a share of new traffic and bakes there while its counters are compared with
 * the stable generation's; a failed analysis rolls back. Defaults are in defaults.ts (`DEFAULTS.rollout`).
 */
import { DEFAULTS } from "../../defaults";
import { RuntimeInputError, validateInteger, validateKeys } from "../runtime/validate";
import { resolvePrometheusSettings, type PrometheusSettings, type ResolvedPrometheusSettings } from "./prometheusSettings";

/** One step: the new generation's share of new traffic, and how long it bakes there. */
export interface RolloutStep {
    /** Percent of new (non-persistent) traffic for the new generation, 1 to 100; the last step is 100. */
    percent: number;
    /** How long the step is analysed before the next one, in ms (at least one analysis window). */
    bakeMs: number;
}

/** What to do when a bake stays inconclusive until the end of its extension. */
export const INCONCLUSIVE_POLICIES = ["rollback", "fail"] as const;
export type InconclusivePolicy = (typeof INCONCLUSIVE_POLICIES)[number];

/** How every bake is judged; every default is `DEFAULTS.rollout.analysis`'s. */
export interface AnalysisSettings {
    /** @default 10000 */
    windowMs: number;
    /** @default 20 */
    minRequests: number;
    /** @default 0.01 */
    maxErrorRate: number;
    /** @default 0.005 */
    maxErrorRateIncrease: number;
    /** @default 2 */
    maxResponseTimeRatio: number;
    /** @default 50 */
    responseTimeSlackMs: number;
    /** @default 0.05 */
    maxRetryRate: number;
    /** @default 0 */
    failureLimit: number;
    /** @default 120000 */
    inconclusiveExtensionMs: number;
    /** @default "rollback" */
    onInconclusive: InconclusivePolicy;
}

export interface RolloutSpec {
    /** @default 10% for 60 s, 50% for 120 s, 100% for 120 s */
    steps: RolloutStep[];
    analysis: AnalysisSettings;
    /**
     * Which of this stack's other servers in the backend the new generation replaces: those whose
     * recorded owner resource starts with this. @default any other resource of this stack
     */
    replacesOwnersStartingWith?: string;
    /** Counters from Prometheus scraping HAProxy's exporter instead of each load balancer's `show stat`. @default none */
    prometheus?: ResolvedPrometheusSettings;
}

/** Most steps a rollout may have. */
const MAX_STEPS = 20;
/** Longest bake, window or extension: one day, in ms. */
const MAX_MS = 24 * 3600_000;

function validateRate(field: string, value: unknown): number {
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) throw new RuntimeInputError(field, value, "a number from 0 to 1");
    return value;
}

function validateRatio(field: string, value: unknown): number {
    if (typeof value !== "number" || !(value >= 1 && value <= 1000)) throw new RuntimeInputError(field, value, "a number from 1 to 1000");
    return value;
}

/** Validates a rollout input and fills defaults; throws RuntimeInputError naming the field (`rollout.steps[1].percent`, ...). */
export function resolveRollout(field: string, value: unknown): RolloutSpec {
    const o = validateKeys(field, value, ["steps", "analysis", "replacesOwnersStartingWith", "prometheus"]);
    const a = validateKeys(`${field}.analysis`, o.analysis ?? {}, Object.keys(DEFAULTS.rollout.analysis));
    const d = DEFAULTS.rollout.analysis;
    const at = (k: string) => `${field}.analysis.${k}`;
    const windowMs = validateInteger(at("windowMs"), a.windowMs ?? d.windowMs, 500, MAX_MS);
    const analysis: AnalysisSettings = {
        windowMs,
        minRequests: validateInteger(at("minRequests"), a.minRequests ?? d.minRequests, 1, 1_000_000),
        maxErrorRate: validateRate(at("maxErrorRate"), a.maxErrorRate ?? d.maxErrorRate),
        maxErrorRateIncrease: validateRate(at("maxErrorRateIncrease"), a.maxErrorRateIncrease ?? d.maxErrorRateIncrease),
        maxResponseTimeRatio: validateRatio(at("maxResponseTimeRatio"), a.maxResponseTimeRatio ?? d.maxResponseTimeRatio),
        responseTimeSlackMs: validateInteger(at("responseTimeSlackMs"), a.responseTimeSlackMs ?? d.responseTimeSlackMs, 0, 600_000),
        maxRetryRate: validateRate(at("maxRetryRate"), a.maxRetryRate ?? d.maxRetryRate),
        failureLimit: validateInteger(at("failureLimit"), a.failureLimit ?? d.failureLimit, 0, 1000),
        inconclusiveExtensionMs: validateInteger(at("inconclusiveExtensionMs"), a.inconclusiveExtensionMs ?? d.inconclusiveExtensionMs, 0, MAX_MS),
        onInconclusive: validatePolicy(at("onInconclusive"), a.onInconclusive ?? d.onInconclusive),
    };
    const steps = validateSteps(`${field}.steps`, o.steps ?? DEFAULTS.rollout.steps, windowMs);
    const scope = o.replacesOwnersStartingWith;
    if (scope !== undefined && (typeof scope !== "string" || !/^[A-Za-z0-9._~!*'()%-]{1,256}$/.test(scope))) {
        throw new RuntimeInputError(`${field}.replacesOwnersStartingWith`, scope, "1 to 256 characters of a URI-encoded resource name");
    }
    return {
        steps,
        analysis,
        ...(scope === undefined ? {} : { replacesOwnersStartingWith: scope as string }),
        ...(o.prometheus === undefined ? {} : { prometheus: resolvePrometheusSettings(validateKeys(`${field}.prometheus`, o.prometheus, ["url", "instances", "job", "timeoutMs"]) as unknown as PrometheusSettings) }),
    };
}

function validatePolicy(field: string, value: unknown): InconclusivePolicy {
    if (!INCONCLUSIVE_POLICIES.includes(value as InconclusivePolicy)) throw new RuntimeInputError(field, value, `one of ${INCONCLUSIVE_POLICIES.join(", ")}`);
    return value as InconclusivePolicy;
}

/** 1 to 20 steps of rising percents ending at 100, each baking at least one analysis window. */
function validateSteps(field: string, value: unknown, windowMs: number): RolloutStep[] {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_STEPS) {
        throw new RuntimeInputError(field, value, `a list of 1 to ${MAX_STEPS} { percent, bakeMs }, the last one at 100 percent`);
    }
    let previous = 0;
    const steps = value.map((entry, i) => {
        const o = validateKeys(`${field}[${i}]`, entry, ["percent", "bakeMs"]);
        const percent = validateInteger(`${field}[${i}].percent`, o.percent, previous + 1, 100);
        previous = percent;
        return { percent, bakeMs: validateInteger(`${field}[${i}].bakeMs`, o.bakeMs, windowMs, MAX_MS) };
    });
    if (previous !== 100) throw new RuntimeInputError(`${field}[${steps.length - 1}].percent`, previous, "100 for the last step");
    return steps;
}

/** The steps: `10% for 60 s, 50% for 120 s, 100% for 120 s`. */
export function describeSteps(steps: RolloutStep[]): string {
    return steps.map((s) => `${s.percent}% for ${s.bakeMs / 1000} s`).join(", ");
}

/** The whole rollout in one sentence, for progress lines and plan summaries. */
export function describeRollout(rollout: RolloutSpec): string {
    const a = rollout.analysis;
    const pct = (r: number) => `${+(r * 100).toFixed(3)}%`;
    return (
        `${describeSteps(rollout.steps)}; analysed every ${a.windowMs / 1000} s (at least ${a.minRequests} requests to the new generation, ` +
        `error rate at most ${pct(a.maxErrorRate)} and at most ${pct(a.maxErrorRateIncrease)} over the stable generation's, ` +
        `response time at most ${a.maxResponseTimeRatio}x the stable generation's, retries at most ${pct(a.maxRetryRate)}, ` +
        `${a.failureLimit} failed windows tolerated${rollout.prometheus ? `; counters from Prometheus at ${rollout.prometheus.url}` : ""}); ` +
        `an inconclusive bake goes on ${a.inconclusiveExtensionMs / 1000} s more, then ${a.onInconclusive}`
    );
}
