/**
 * Watching a draining server's sessions until they reach zero (runbook step 13), and until they stayed
 * there for the quiet period and the minimum drain time passed (steps 12 and 18: sticky clients between
 * two requests, the session TTL).
 *
 * Sessions are `scur` + `qcur` of the server's `show stat` row on the process that answers now, plus its
 * sessions on every process a reload replaced that still finishes requests. A request that begins and
 * ends between two polls (a sticky client's short request) never shows in `scur`, so `stot` (sessions so
 * far, per process) is watched too: any new session restarts the quiet period.
 */
import type { RuntimeClient } from "./runtime/client";
import { backendStats } from "./runtime/backendStats";
import { findStatRow, type StatRow } from "./runtime/parsers";
import type { DrainSettings } from "./membershipSpec";

/** Sessions still on the server: current plus queued. */
export function sessionsOf(row: StatRow): number {
    return (row.scur ?? 0) + (row.qcur ?? 0);
}

/** One poll's view of the server. */
export interface SessionSighting {
    /** Which process answered (`describeProcess`). */
    process: string;
    /** Sessions on every process. */
    sessions: number;
    /** `stot` on the answering process, if the server is there. */
    stot?: number;
    /** The server takes no new sessions (DRAIN, DOWN, MAINT or absent). */
    outOfRotation: boolean;
}

/** The quiet period and minimum drain of one drain, fed one sighting per poll. */
export class SessionWatch {
    private readonly startedAt: number;
    private zeroSince?: number;
    private seenTotal?: { process: string; stot: number };

    constructor(
        private readonly drain: Pick<DrainSettings, "quietPeriodMs" | "minimumMs">,
        now = Date.now(),
    ) {
        this.startedAt = now;
    }

    /** Records a poll; returns since when sessions have been at zero without a new one, or `undefined`. */
    see(s: SessionSighting, now = Date.now()): number | undefined {
        const newSessions = s.stot !== undefined && this.seenTotal?.process === s.process && s.stot !== this.seenTotal.stot;
        if (s.stot !== undefined) this.seenTotal = { process: s.process, stot: s.stot };
        if (s.sessions > 0 || !s.outOfRotation) this.zeroSince = undefined;
        else if (newSessions || this.zeroSince === undefined) this.zeroSince = now;
        return this.zeroSince;
    }

    /** Whether the sessions stayed at zero for the quiet period and the drain lasted its minimum. */
    quietEnough(now = Date.now()): boolean {
        return this.zeroSince !== undefined && now - this.zeroSince >= this.drain.quietPeriodMs && now - this.startedAt >= this.drain.minimumMs;
    }
}

/**
 * Sessions of the server on processes replaced by a reload that still finish requests. A replaced
 * process whose backend has no session left is released (our open connection would keep it alive).
 */
export async function sessionsOnReplacedProcesses(client: RuntimeClient, backend: string, server: string): Promise<number> {
    let total = 0;
    for (const old of client.previousProcesses()) {
        const rows = await backendStats(old, backend).rows().catch(() => undefined);
        const backendRow = rows && findStatRow(rows, backend, "BACKEND");
        if (!rows || !backendRow || sessionsOf(backendRow) === 0) {
            old.release();
            continue;
        }
        const row = findStatRow(rows, backend, server);
        total += row ? sessionsOf(row) : 0;
    }
    return total;
}
