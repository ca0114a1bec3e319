/**
 * Draining one server on one load balancer (runbook steps 12 and 13): no new sessions (HAProxy's drain
 * state, or a failing health check), then watch its sessions until they reach zero.
 *
 * Sessions are counted on the process that answers now and on every process it replaced that is still
 * finishing requests (a reload in the middle of a drain leaves the long requests on the old process:
 * they count until they end). Each round asks which process answers, so a new one gets the drain state
 * too; the servers file records the drain (`weight 0`) for any process started later. Errors that pass
 * (connection, reload) are retried until the drain's deadline.
 *
 * Tunnels (a WebSocket after its upgrade, a `CONNECT`) never end by themselves: once the drain is
 * `drain.tunnelGraceMs` old, the tunnels still open on the answering process are shut one by one
 * (`shutdown session`), so their clients reconnect to a serving server; ordinary requests are waited for.
 * A tunnel left on a process a reload replaced ends with that process (`hard-stop-after`).
 */
import type { MembershipSpec } from "./membershipSpec";
import { firstLine, inRounds, serverNow, type LoadBalancerAccess } from "./loadBalancerAccess";
import { isServing } from "./attach";
import { progress } from "../provider/providerLog";
import { SessionWatch, sessionsOf, sessionsOnReplacedProcesses } from "./watchSessions";

/** With `onTimeout: force`, how long after the deadline a load balancer may take to be reached, in ms. */
const FORCE_GRACE_MS = 15_000;
/** Interval between two unchanged progress lines while sessions drain, in ms. */
const PROGRESS_EVERY_MS = 5_000;
/** Interval between two looks for tunnels past their grace (`show sess all` is long on a busy load balancer), in ms. */
const TUNNEL_LOOK_EVERY_MS = 1_000;

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
    const watch = new SessionWatch(spec.drain);
    const tunnelsShutFrom = Date.now() + spec.drain.tunnelGraceMs;
    let tunnelsLookedAt = 0;
    // With `force`, the rounds go on past the deadline for as long as it takes to shut the sessions down.
    const lastRound = spec.drain.onTimeout === "force" ? deadline + FORCE_GRACE_MS : deadline;
    return inRounds<DrainOutcome>(
        { deadline: lastRound, intervalMs: spec.drain.pollIntervalMs, name },
        async () => {
            const { process, row } = await serverNow(client, backend, server);
            const previous = await sessionsOnReplacedProcesses(client, backend, server);
            if (!row && previous === 0) return { done: { absent: !recorded, forced: false, sessionsZeroAt: Date.now() } };
            if (row && !recorded) {
                if (spec.drain.method === "drain") await access.record(spec, "drain");
                recorded = true;
            }
            // Drain state is set on each process, and again whenever the server serves after all: an agent
            // check answering `ready` clears DRAIN (so the agent is stopped first), as does an operator.
            const undone = drainedOn === process && isServing(row?.status);
            if (row && spec.drain.method === "drain" && (undone || (drainedOn !== process && !/^(DRAIN|MAINT)/.test(row.status ?? "")))) {
                if (spec.options.agent) await client.disableAgent(backend, server);
                await client.setState(backend, server, "drain");
                if (drainedOn === undefined) progress(`${name} draining: no new sessions, ${sessionsOf(row) + previous} in flight`);
                if (undone) progress(`${name}: status ${row.status} during its drain (an agent check or a hand-made change): drain state set again`);
                drainedOn = process;
            }
            const sessions = (row ? sessionsOf(row) : 0) + previous;
            lastSeen = `${sessions} sessions${previous ? ` (${previous} on a process replaced by a reload)` : ""}, status ${row?.status ?? "absent"}`;
            // Any status but UP (DRAIN, DOWN, NOLB, MAINT) means no new sessions: in drain state HAProxy
            // shows DOWN when the check also fails; with the healthcheck method DOWN is the goal.
            const quietSince = watch.see({ process, sessions, stot: row?.stot, outOfRotation: !isServing(row?.status) });
            // At the deadline, sessions at zero end the drain even if the quiet period is not over.
            if (quietSince !== undefined && (watch.quietEnough() || Date.now() >= deadline)) {
                return { done: { absent: false, forced: false, sessionsZeroAt: quietSince } };
            }
            if (row && sessions > 0 && Date.now() >= tunnelsShutFrom && Date.now() - tunnelsLookedAt >= TUNNEL_LOOK_EVERY_MS) {
                tunnelsLookedAt = Date.now();
                const tunnels = await client.tunnelsOf(backend, server);
                for (const id of tunnels) await client.shutdownSession(id);
                if (tunnels.length > 0) {
                    progress(`${name}: ${tunnels.length} tunnels (WebSocket, CONNECT) still open after the ${spec.drain.tunnelGraceMs} ms grace: shut down (process ${process})`);
                }
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
