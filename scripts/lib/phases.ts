/**
 * Phase timings of one `pulumi up`, from the engine's events: when each step of each runbook phase
 * started and ended. Pure bookkeeping: feed it events, read the spans.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { STEP_TYPES, TYPES } from "../../src/names";
import { readTimings, type DrainTiming, type StartTiming, type StepTiming } from "../../src/provider/timings";

export const PHASES = ["snapshot", "migration", "create", "gate", "attach", "smoke", "drain", "detach", "terminate"] as const;
export type Phase = (typeof PHASES)[number];

/** Which phase a step belongs to, from its resource type, operation and name; undefined for others. */
export function phaseOf(type: string, op: string, urn: string): Phase | undefined {
    const creating = op === "create" || op === "create-replacement";
    const deleting = op === "delete" || op === "delete-replaced" || op === "discard";
    const name = urn.slice(urn.lastIndexOf("::") + 2);
    if (STEP_TYPES.snapshot.includes(type) && creating) return "snapshot";
    if (STEP_TYPES.migration.includes(type) && (creating || op === "update")) return "migration";
    if (STEP_TYPES.server.includes(type)) return creating ? "create" : deleting ? "terminate" : undefined;
    if (type === TYPES.healthGate && creating) return name.includes("-smoke-") ? "smoke" : "gate";
    if (STEP_TYPES.membership.includes(type)) return creating ? "attach" : deleting ? "drain" : undefined;
    // Retiring an adopted fleet drains and detaches it like an old generation.
    if (type === TYPES.adoption && (creating || op === "update")) return "drain";
    return undefined;
}

export interface Span {
    start: number;
    end: number;
}

/** Collects spans per phase from engine events (times are when the event was seen, in epoch ms). */
export class PhaseClock {
    private readonly open = new Map<string, { phase: Phase; start: number }>();
    readonly spans = new Map<Phase, Span>();
    /** Longest detach in the drain timings, in ms (detach runs inside the membership delete). */
    private detachMs = 0;
    /** From the drain timings: when the last drain ended, and the span of the detaches (epoch ms). */
    private lastDrainedAt?: number;
    private detachSpan?: Span;
    /** From the start timings: the first spawn to the last server listening (epoch ms). */
    private appStart?: Span;

    onEvent = (event: EngineEvent, now = Date.now()): void => {
        const pre = event.resourcePreEvent?.metadata;
        if (pre) {
            const phase = phaseOf(pre.type, pre.op, pre.urn);
            if (phase) this.open.set(`${pre.op}:${pre.urn}`, { phase, start: now });
        }
        const done = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
        if (done) {
            const key = `${done.op}:${done.urn}`;
            const step = this.open.get(key);
            if (step) {
                this.open.delete(key);
                this.extend(step.phase, step.start, now);
            }
        }
    };

    /**
     * The drain timings the membership provider recorded (src/provider/timings.ts): one per server and
     * load balancer, with when its sessions reached zero for good and when it was removed.
     */
    addDrainTimings(timings: DrainTiming[]): void {
        for (const t of timings) {
            const removedAt = t.removedAt ?? t.sessionsZeroAt;
            this.detachMs = Math.max(this.detachMs, removedAt - t.sessionsZeroAt);
            this.lastDrainedAt = Math.max(this.lastDrainedAt ?? 0, t.sessionsZeroAt);
            this.detachSpan = { start: Math.min(t.sessionsZeroAt, this.detachSpan?.start ?? Infinity), end: Math.max(removedAt, this.detachSpan?.end ?? 0) };
        }
    }

    /**
     * The start timings the app server provider recorded: the span from the first new server's process
     * being spawned to the last one accepting connections (the servers' own start, inside `create`).
     */
    addStartTimings(timings: StartTiming[]): void {
        for (const t of timings) {
            this.appStart = { start: Math.min(t.spawnedAt, this.appStart?.start ?? Infinity), end: Math.max(t.listeningAt, this.appStart?.end ?? 0) };
        }
    }

    /** The drain and start timings of the timings file a `pulumi up` wrote. */
    addTimingsFile(file: string): void {
        const timings = readTimings(file);
        this.addDrainTimings(timings.filter((t: StepTiming): t is DrainTiming => t.kind === "drain"));
        this.addStartTimings(timings.filter((t: StepTiming): t is StartTiming => t.kind === "start"));
    }

    /** Seconds from the first new server's spawn to the last one accepting connections; 0 without start timings. */
    get appStartSeconds(): number {
        return this.appStart ? (this.appStart.end - this.appStart.start) / 1000 : 0;
    }

    /** From the first runbook step's start to the last one's end (epoch ms); undefined if none ran. */
    get stepsSpan(): Span | undefined {
        const spans = [...this.spans.values()];
        if (spans.length === 0) return undefined;
        return { start: Math.min(...spans.map((s) => s.start)), end: Math.max(...spans.map((s) => s.end)) };
    }

    private extend(phase: Phase, start: number, end: number): void {
        const span = this.spans.get(phase);
        this.spans.set(phase, { start: Math.min(start, span?.start ?? start), end: Math.max(end, span?.end ?? end) });
    }

    /** Seconds per phase; the membership deletes are split into drain and detach using the drain timings. */
    seconds(): Record<Phase, number | undefined> {
        const out = Object.fromEntries(PHASES.map((p) => [p, undefined])) as Record<Phase, number | undefined>;
        for (const [phase, span] of this.spans) out[phase] = (span.end - span.start) / 1000;
        if (out.drain !== undefined) {
            out.detach = Math.min(this.detachMs / 1000, out.drain);
            out.drain = out.drain - out.detach;
        }
        return out;
    }

    /**
     * When each phase ran (epoch ms), for the flip's picture. The membership deletes are split with the
     * drain timings as `seconds()` splits them: drain until the last drain ended, detach over the detaches
     * (both within the deletes' span).
     */
    bands(): Partial<Record<Phase, Span>> {
        const out: Partial<Record<Phase, Span>> = Object.fromEntries(this.spans);
        const deletes = this.spans.get("drain");
        if (deletes && this.detachSpan && this.lastDrainedAt !== undefined) {
            const clip = (t: number) => Math.min(Math.max(t, deletes.start), deletes.end);
            out.drain = { start: deletes.start, end: clip(this.lastDrainedAt) };
            out.detach = { start: clip(this.detachSpan.start), end: clip(this.detachSpan.end) };
        }
        return out;
    }

    /** When the first membership delete (the drain) started, in epoch ms. */
    get drainStartedAt(): number | undefined {
        return this.spans.get("drain")?.start;
    }
}
