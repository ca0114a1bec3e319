/**
 * Draining and detaching one server from one load balancer (runbook steps 12-14): stop new sessions,
 * watch current and queued sessions until both are zero, then put the server in MAINT and delete it,
 * retrying while HAProxy still holds idle connections to it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { RuntimeClient, RuntimeCommandError } from "./client";
import { backendStats } from "./backendStats";
import type { StatRow } from "./parsers";
import type { LoadBalancerRef, MembershipSpec } from "./membershipSpec";
import { progress } from "../providerLog";
import { isServing } from "./attach";

/** Longest wait for HAProxy to release idle connections after the sessions ended, in ms. */
export const IDLE_CONNECTION_GRACE_MS = 30_000;
/** Interval between two unchanged progress lines while sessions drain, in ms. */
const PROGRESS_EVERY_MS = 5_000;

export interface DrainResult {
    lb: string;
    /** `removed`: this drain deleted the server; `already-gone`: it was not there. */
    outcome: "removed" | "already-gone";
    /** Whether sessions were shut down at the timeout (`onTimeout: force`). */
    forced: boolean;
    /** When sessions were first seen at zero (epoch ms), and when the server was deleted. */
    sessionsZeroAt?: number;
    removedAt?: number;
}

/** Sessions still on the server: current plus queued. */
export function sessionsOf(row: StatRow): number {
    return (row.scur ?? 0) + (row.qcur ?? 0);
}

/** Raised when sessions did not reach zero in time and `onTimeout` is `fail`. */
export class DrainTimeoutError extends Error {
    constructor(lb: string, spec: MembershipSpec, row: StatRow) {
        super(
            `${lb}: ${spec.backend}/${spec.server} still has ${row.scur ?? 0} sessions and ${row.qcur ?? 0} queued after ` +
                `${spec.drain.timeoutMs} ms of draining (status ${row.status}). The server stays out of rotation and attached; ` +
                "run `pulumi up` again to resume the drain, or set drain.onTimeout to force.",
        );
        this.name = "DrainTimeoutError";
    }
}

/**
 * Drains and removes the server on one load balancer. `deadline` (epoch ms) bounds the wait for
 * sessions. With the `healthcheck` method the caller has already made the server's check fail.
 */
export async function drainOne(client: RuntimeClient, lb: LoadBalancerRef, spec: MembershipSpec, deadline: number): Promise<DrainResult> {
    const { backend, server } = spec;
    const name = `${lb.name}: ${backend}/${server}`;
    const startedAt = Date.now();
    let row = await lookup(client, spec);
    if (!row) return { lb: lb.name, outcome: "already-gone", forced: false };
    if (spec.drain.method === "drain" && !/^(DRAIN|MAINT)/.test(row.status ?? "")) {
        await client.setState(backend, server, "drain");
        progress(`${name} draining: no new sessions, ${sessionsOf(row)} in flight`);
    }
    let forced = false;
    let lastShown = { sessions: -1, at: 0 };
    for (;;) {
        row = await lookup(client, spec);
        if (!row) return { lb: lb.name, outcome: "already-gone", forced };
        const sessions = sessionsOf(row);
        // Any status but UP (DRAIN, DOWN, NOLB, MAINT) means no new sessions: in drain state HAProxy
        // shows DOWN when the check also fails; with the healthcheck method DOWN is the goal.
        if (sessions === 0 && !isServing(row.status)) break;
        if (Date.now() >= deadline) {
            if (spec.drain.onTimeout === "fail") throw new DrainTimeoutError(lb.name, spec, row);
            progress(`${name}: drain timeout, shutting down ${sessions} remaining sessions (onTimeout: force)`);
            await client.setState(backend, server, "maint");
            await client.shutdownSessions(backend, server);
            forced = true;
            break;
        }
        if (sessions !== lastShown.sessions || Date.now() - lastShown.at >= PROGRESS_EVERY_MS) {
            progress(`${name}: ${row.scur ?? 0} sessions, ${row.qcur ?? 0} queued (status ${row.status})`);
            lastShown = { sessions, at: Date.now() };
        }
        await sleep(spec.drain.pollIntervalMs);
    }
    const sessionsZeroAt = Date.now();
    await client.setState(backend, server, "maint");
    const removedAt = await deleteWhenIdle(client, spec, name);
    const timing = `drained in ${sessionsZeroAt - startedAt} ms, detached in ${(removedAt ?? Date.now()) - sessionsZeroAt} ms`;
    progress(`${name} removed: ${timing}${forced ? " (sessions shut down at the timeout)" : ""}`);
    return { lb: lb.name, outcome: removedAt === undefined ? "already-gone" : "removed", forced, sessionsZeroAt, removedAt };
}

async function lookup(client: RuntimeClient, spec: MembershipSpec): Promise<StatRow | undefined> {
    try {
        return await backendStats(client, spec.backend).server(spec.server);
    } catch (err) {
        if (err instanceof RuntimeCommandError && err.code === "no-such-backend") return undefined;
        throw err;
    }
}

/** `del server`, retried while idle connections remain. Returns when it was deleted, or undefined if it was already gone. */
async function deleteWhenIdle(client: RuntimeClient, spec: MembershipSpec, name: string): Promise<number | undefined> {
    const giveUpAt = Date.now() + IDLE_CONNECTION_GRACE_MS;
    const retryMs = Math.min(spec.drain.pollIntervalMs, 100);
    for (let attempt = 0; ; attempt++) {
        try {
            await client.delServer(spec.backend, spec.server);
            return Date.now();
        } catch (err) {
            if (!(err instanceof RuntimeCommandError)) throw err;
            if (err.code === "no-such-server" || err.code === "no-such-backend") return undefined;
            if (err.code !== "still-has-connections" || Date.now() >= giveUpAt) throw err;
            if (attempt === 0) progress(`${name}: waiting for HAProxy to close idle connections before removing it`);
            await sleep(retryMs);
        }
    }
}
