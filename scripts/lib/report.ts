/**
 * The flip report: requests and failures, which generation answered over time, long requests that
 * were in flight on the old generation when its drain started, time per phase, and the final membership
 * of every load balancer. Pure formatting: exported for tests.
 */
import { formatRolloutSteps, type RolloutTiming } from "./rolloutSteps";
import type { Phase, Span } from "./phases";
import type { Answer, TrafficResult } from "./traffic";

export interface FlipFacts {
    from: string;
    to: string;
    traffic: TrafficResult;
    /** When the flip's `pulumi up` started and ended (epoch ms). */
    startedAt: number;
    endedAt: number;
    /** When the old generation's drain began (epoch ms), if it did. */
    drainStartedAt?: number;
    phases: Record<Phase, number | undefined>;
    /** When each phase ran (epoch ms), for the flip's picture. @default none: the picture shows no phases */
    phaseSpans?: Partial<Record<Phase, Span>>;
    /** Per load balancer: its servers and their status after the flip. */
    membership: { lb: string; servers: { name: string; status: string }[] }[];
    /** A rollout's weight changes and analysis windows, in order. @default none (no rollout) */
    rollout?: RolloutTiming[];
}

/** Long requests answered by the old generation that were in flight when the drain started. */
export function longCompletedOnOld(facts: Pick<FlipFacts, "from" | "traffic" | "drainStartedAt">): Answer[] {
    const at = facts.drainStartedAt;
    if (at === undefined) return [];
    return facts.traffic.answers.filter(
        (a) => a.kind === "long" && a.status === 200 && a.generation === facts.from && a.startedAt <= at && a.endedAt >= at,
    );
}

/** Answers per second (relative to `origin`) and generation. */
export function timeline(answers: Answer[], origin: number): { second: number; byGeneration: Record<string, number>; failed: number }[] {
    const rows = new Map<number, { byGeneration: Record<string, number>; failed: number }>();
    for (const a of answers) {
        const second = Math.floor((a.endedAt - origin) / 1000);
        const row = rows.get(second) ?? { byGeneration: {}, failed: 0 };
        if (a.error) row.failed++;
        else row.byGeneration[a.generation ?? "?"] = (row.byGeneration[a.generation ?? "?"] ?? 0) + 1;
        rows.set(second, row);
    }
    return [...rows.entries()].sort(([a], [b]) => a - b).map(([second, row]) => ({ second, ...row }));
}

/** The closing line, exactly in the documented form. */
export function summaryLine(facts: FlipFacts): string {
    const seconds = ((facts.endedAt - facts.startedAt) / 1000).toFixed(1);
    return `flip ${facts.from} -> ${facts.to}: ${facts.traffic.total} requests, ${facts.traffic.failed.length} failed, ${longCompletedOnOld(facts).length} long requests completed on ${facts.from}, ${seconds} s`;
}

export function formatReport(facts: FlipFacts): string {
    const lines: string[] = [];
    const { traffic } = facts;
    lines.push(`Requests: ${traffic.total} total, ${traffic.failed.length} failed`);
    for (const f of traffic.failed.slice(0, 10)) lines.push(`  failed ${f.kind} ${f.url} after ${f.endedAt - f.startedAt} ms: ${f.error}`);
    lines.push("", "Who answered (seconds since the flip started):");
    for (const row of timeline(traffic.answers, facts.startedAt)) {
        const who = Object.entries(row.byGeneration).map(([g, n]) => `${g} ${n}`).join(", ");
        lines.push(`  ${String(row.second).padStart(4)} s  ${who}${row.failed ? `, failed ${row.failed}` : ""}`);
    }
    const long = longCompletedOnOld(facts);
    lines.push("", `Long requests in flight on ${facts.from} when its drain started, completed: ${long.length}`);
    for (const a of long) lines.push(`  ${a.server}: ${a.endedAt - a.startedAt} ms, ended ${a.endedAt - (facts.drainStartedAt ?? a.endedAt)} ms after the drain started`);
    if (facts.rollout?.length) lines.push("", "Rollout steps (from the load balancers' counters):", ...formatRolloutSteps(facts.rollout, facts.startedAt));
    lines.push("", "Phases (s):");
    for (const [phase, seconds] of Object.entries(facts.phases)) lines.push(`  ${phase.padEnd(10)} ${seconds === undefined ? "-" : seconds.toFixed(2)}`);
    lines.push("", "Membership after the flip:");
    for (const lb of facts.membership) lines.push(`  ${lb.lb}: ${lb.servers.map((s) => `${s.name} ${s.status}`).join(", ") || "(none)"}`);
    lines.push("", summaryLine(facts));
    return lines.join("\n");
}
