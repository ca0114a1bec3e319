/**
 * What the soak prints: one line per flip (`flip 7/30 g7->g8 fault=master moment=drain requests=1234
 * failed=0 seconds=21.4 ok (reload of lb2)`, or `FAILED: <reason>`) and the summary. Pure: the verdicts
 * and lines are computed from the facts, exported for tests.
 */
import type { FlipFacts } from "./report";
import type { Fault } from "./soakFaults";
import type { FaultyFlip } from "./soakFlip";

type Membership = FlipFacts["membership"];

/** `lb servers` as `app-g8-0 UP, app-g8-1 UP`. */
export function describeMembers(servers: Membership[number]["servers"]): string {
    return servers.map((s) => `${s.name} ${s.status}`).join(", ") || "(none)";
}

/** Why `membership` is not exactly `servers` UP on every load balancer, or `undefined` if it is. */
export function membershipProblem(membership: Membership, servers: string[]): string | undefined {
    const expected = servers.map((s) => `${s} UP`).sort().join(", ");
    const wrong = membership.filter((m) => describeMembers([...m.servers].sort((a, b) => a.name.localeCompare(b.name))) !== expected);
    return wrong.length === 0 ? undefined : wrong.map((m) => `${m.lb} has ${describeMembers(m.servers)}`).join("; ");
}

/** Why the flip failed, or `undefined` if it converged; `servers` are the new generation's. */
export function flipProblem(flip: FaultyFlip, servers: string[]): string | undefined {
    const { run } = flip;
    if (run.error) return `pulumi up failed: ${lastLines(run.error.message, 6)}`;
    if (flip.faultError) return `the fault itself failed: ${lastLines(flip.faultError.message, 3)}`;
    if (!flip.reached) return "the moment never came: no fault struck";
    if (run.traffic.failed.length > 0) {
        const first = run.traffic.failed[0];
        return `${run.traffic.failed.length} requests failed (first: ${first.kind} ${first.url}: ${first.error})`;
    }
    return membershipProblem(run.membership, servers);
}

/** The flip's line (`index` counts from 1). */
export function flipLine(index: number, flips: number, fault: Fault, flip: FaultyFlip, problem: string | undefined): string {
    const { run } = flip;
    const what = fault.kind === "kill-up" ? "killed, converged by the next up" : `reload of ${fault.lb}`;
    const verdict = problem === undefined ? `ok (${what}${flip.reached?.late ? "; moment seen late" : ""})` : `FAILED: ${problem}`;
    return [
        `flip ${index}/${flips} ${run.from}->${run.to}`,
        `fault=${fault.kind}`,
        `moment=${fault.moment}`,
        `requests=${run.traffic.total}`,
        `failed=${run.traffic.failed.length}`,
        `seconds=${((run.endedAt - run.startedAt) / 1000).toFixed(1)}`,
        verdict,
    ].join(" ");
}

export interface SoakOutcome {
    seed: number;
    flips: number;
    haproxy: string;
    requests: number;
    failedRequests: number;
    /** Lines of the flips that failed. */
    failedFlips: string[];
    membership: Membership;
    /** Why the final membership is wrong, if it is. */
    membershipProblem?: string;
    /** Why `pulumi preview --expect-no-changes` failed, if it did. */
    previewProblem?: string;
    strays: { pid: number; command: string }[];
}

/** Whether the soak passed: no failed request or flip, the last generation UP everywhere, a clean preview, no stray. */
export function soakPassed(o: SoakOutcome): boolean {
    return o.failedRequests === 0 && o.failedFlips.length === 0 && !o.membershipProblem && !o.previewProblem && o.strays.length === 0;
}

/** The summary lines. */
export function summaryLines(o: SoakOutcome): string[] {
    return [
        `soak summary: seed ${o.seed}, ${o.flips} flips, HAProxy ${o.haproxy}`,
        `requests: ${o.requests} total, ${o.failedRequests} failed`,
        `failed flips: ${o.failedFlips.length}${o.failedFlips.map((l) => `\n  ${l}`).join("")}`,
        ...o.membership.map((m) => `membership ${m.lb}: ${describeMembers(m.servers)}`),
        `membership: ${o.membershipProblem ?? "the last generation UP on every load balancer"}`,
        `preview --expect-no-changes: ${o.previewProblem ? `FAILED: ${o.previewProblem}` : "clean"}`,
        `stray processes: ${o.strays.length}${o.strays.map((s) => `\n  ${s.pid} ${s.command}`).join("")}`,
        `soak: ${soakPassed(o) ? "passed" : "FAILED"}`,
    ];
}

/** The last `n` non-empty lines of `text`, joined with ` | `. */
export function lastLines(text: string, n: number): string {
    return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(-n).join(" | ");
}
