/**
 * Draining one server on one load balancer (runbook steps 12 and 13): no new sessions (HAProxy's drain
 * state, or a failing health check), then watch its sessions until they reach zero.
 *
 * Sessions are counted on the process that answers now and on every process it replaced that is still
 * finishing requests (a reload in the middle of a drain leaves the long requests on the old process:
 * they count until they end). Each round asks which process answers, so a new one gets the drain state
 * too; the servers file records the drain (`weight 0`) for any process started later. Errors that pass
 * (connection, reload) are retried until the drain's deadline.
 */
import type { RuntimeClient } from "./runtime/client";
import { backendStats } from "./runtime/backendStats";
import { findStatRow, type StatRow } from "./runtime/parsers";
import type { MembershipSpec } from "./membershipSpec";
import { firstLine, inRounds, serverNow, type LoadBalancerAccess } from "./loadBalancerAccess";
import { isServing } from "./attach";
import { progress } from "../provider/providerLog";

/** With `onTimeout: force`, how long after the deadline a load balancer may take to be reached, in ms. */
const FORCE_GRACE_MS = 15_000;
/** Interval between two unchanged progress lines while sessions drain, in ms. */
const PROGRESS_EVERY_MS = 5_000;

/** Sessions still on the server: current plus queued. */
export function sessionsOf(row: StatRow): number {
    return (row.scur ?? 0) + (row.qcur ?? 0);
}

/** Raised when sessions did not reach zero in time and `onTimeout` is `fail`. */
export class DrainTimeoutError extends Error {
    constructor(lb: string, spec: MembershipSpec, detail: string) {
        super(
            `${lb}: ${spec.backend}/${spec.server}: ${detail} after ${spec.drain.timeoutMs} ms of draining. ` +
                "The server stays attached, out of rotation; run `pulumi up` again to resume the drain, set drain.onTimeout to " +
                "force, or roll back (the serving generation is made ready again). If the load balancer is gone for good, " +
                "list it in forgetLoadBalancers (docs/OPERATING.md).",
        );
        this.name = "DrainTimeoutError";
    }
}

/** What a drain saw at its end. */
export interface DrainOutcome {
    /** The server was not on the load balancer at all. */
    absent: boolean;
    /** Sessions were shut down at the timeout (`onTimeout: force`). */
    forced: boolean;
    /** When sessions were seen at zero for good: the start of the quiet period that ended the drain (epoch ms). */
    sessionsZeroAt: number;
}

/**
 * Drains the server on one load balancer until its sessions have been zero on every process for the
 * quiet period and the minimum drain time has passed, bounded by `deadline` (epoch ms). With the
 * `healthcheck` method the caller has already made its check fail.
 */
export async function drainOne(access: LoadBalancerAccess, spec: MembershipSpec, deadline: number): Promise<DrainOutcome> {
    const { client, lb } = access;
    const { backend, server } = spec;
    const name = `${lb.name}: ${backend}/${server}`;
    let drainedOn: string | undefined;
    let recorded = false;
    let lastSeen = "";
    let lastShown = { sessions: -1, at: 0 };
    const startedAt = Date.now();
    let zeroSince: number | undefined;
    let seenTotal: { process: string; stot: number } | undefined;
    // With `force`, the rounds go on past the deadline for as long as it takes to shut the sessions down.
    const lastRound = spec.drain.onTimeout === "force" ? deadline + FORCE_GRACE_MS : deadline;
    return inRounds<DrainOutcome>(
        { deadline: lastRound, intervalMs: spec.drain.pollIntervalMs, name },
        async () => {
            const { process, row } = await serverNow(client, backend, server);
            const previous = await previousSessions(client, backend, server);
            if (!row && previous === 0) return { done: { absent: !recorded, forced: false, sessionsZeroAt: Date.now() } };
            if (row && !recorded) {
                if (spec.drain.method === "drain") await access.record(spec, "drain");
                recorded = true;
            }
            if (row && spec.drain.method === "drain" && drainedOn !== process && !/^(DRAIN|MAINT)/.test(row.status ?? "")) {
                await client.setState(backend, server, "drain");
                if (drainedOn === undefined) progress(`${name} draining: no new sessions, ${sessionsOf(row) + previous} in flight`);
                drainedOn = process;
            }
            const sessions = (row ? sessionsOf(row) : 0) + previous;
            lastSeen = `${sessions} sessions${previous ? ` (${previous} on a process replaced by a reload)` : ""}, status ${row?.status ?? "absent"}`;
            // Any status but UP (DRAIN, DOWN, NOLB, MAINT) means no new sessions: in drain state HAProxy
            // shows DOWN when the check also fails; with the healthcheck method DOWN is the goal.
            // A request that begins and ends between two polls (a sticky client's short request) never shows
            // in scur: the quiet period would end while the client still comes back. stot (sessions so far,
            // per process) counts it: any new session restarts the quiet period (test/integration/haproxy/
            // serverOptions.test.ts: a request every 300 ms did not hold off the removal without it).
            const newSessions = row?.stot !== undefined && seenTotal?.process === process && row.stot !== seenTotal.stot;
            if (row?.stot !== undefined) seenTotal = { process, stot: row.stot };
            if (sessions === 0 && !isServing(row?.status)) {
                if (newSessions) zeroSince = Date.now();
                zeroSince ??= Date.now();
                // At the deadline, sessions at zero end the drain even if the quiet period is not over.
                if (quietEnough(spec, startedAt, zeroSince) || Date.now() >= deadline) return { done: { absent: false, forced: false, sessionsZeroAt: zeroSince } };
            } else {
                zeroSince = undefined;
            }
            if (sessions !== lastShown.sessions || Date.now() - lastShown.at >= PROGRESS_EVERY_MS) {
                progress(`${name}: ${lastSeen}`);
                lastShown = { sessions, at: Date.now() };
            }
            if (Date.now() >= deadline && spec.drain.onTimeout === "force" && row) {
                progress(`${name}: drain timeout, shutting down ${sessions} remaining sessions (onTimeout: force)`);
                await client.setState(backend, server, "maint");
                await client.shutdownSessions(backend, server);
                return { done: { absent: false, forced: true, sessionsZeroAt: Date.now() } };
            }
            return "again";
        },
        (lastError) =>
            lastError
                ? new DrainTimeoutError(lb.name, spec, `the load balancer could not be asked (${firstLine(lastError)})`)
                : new DrainTimeoutError(lb.name, spec, `still ${lastSeen}`),
    );
}

/** Whether sessions at zero since `zeroSince` end a drain that started at `startedAt` (quiet period, minimum drain). */
export function quietEnough(spec: Pick<MembershipSpec, "drain">, startedAt: number, zeroSince: number, now = Date.now()): boolean {
    return now - zeroSince >= spec.drain.quietPeriodMs && now - startedAt >= spec.drain.minimumMs;
}

/**
 * Sessions of the server on processes replaced by a reload that still finish requests. A replaced
 * process whose backend has no session left is released (our open connection would keep it alive).
 */
async function previousSessions(client: RuntimeClient, backend: string, server: string): Promise<number> {
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
