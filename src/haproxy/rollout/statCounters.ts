/**
 * The default metric source of a rollout: each load balancer's own counters, read with `show stat
 * <backend>` on the process that answers now (its identity read on the same connection first), shared
 * with any other read of the backend under way (backendStats.ts).
 */
import { backendStats } from "../runtime/backendStats";
import type { RuntimeClient } from "../runtime/client";
import { describeProcess, type StatRow } from "../runtime/parsers";
import type { CounterReading, MetricSource, ServerCounters } from "./counters";

/** A server's counters in a `show stat` row. */
export function countersOfRow(row: StatRow): ServerCounters {
    const n = (v: number | undefined) => v ?? 0;
    return {
        responses: n(row.hrsp_1xx) + n(row.hrsp_2xx) + n(row.hrsp_3xx) + n(row.hrsp_4xx) + n(row.hrsp_5xx) + n(row.hrsp_other),
        responses5xx: n(row.hrsp_5xx),
        responseErrors: n(row.eresp),
        connectionErrors: n(row.econ),
        retries: n(row.wretr) + n(row.wredis),
        ...(row.rtime === undefined ? {} : { responseTimeMs: row.rtime }),
    };
}

/** The Runtime API of every load balancer as a metric source (`clients` by load balancer name). */
export function statCounters(clients: ReadonlyMap<string, RuntimeClient>): MetricSource {
    const clientOf = (lb: string) => {
        const client = clients.get(lb);
        if (!client) throw new Error(`no Runtime API client for load balancer ${lb}`);
        return client;
    };
    const readOne = async (backend: string, servers: string[], lb: string): Promise<CounterReading> => {
        const client = clientOf(lb);
        const process = describeProcess(await client.currentProcess());
        const rows = await backendStats(client, backend).rows();
        const wanted = new Set(servers);
        const found = rows.filter((r) => r.pxname === backend && wanted.has(r.svname));
        return { lb, process, at: Date.now(), servers: new Map(found.map((r) => [r.svname, countersOfRow(r)])) };
    };
    return {
        description: "the load balancers' Runtime API (show stat)",
        async preflight(backend, servers, lbs) {
            const readings = await Promise.all(lbs.map((lb) => readOne(backend, servers, lb)));
            const missing = readings.flatMap((r) => servers.filter((s) => !r.servers.has(s)).map((s) => `${r.lb}: ${backend}/${s}`));
            if (missing.length > 0) throw new Error(`no counters for ${missing.join(", ")} in show stat`);
        },
        read: (backend, servers, lbs) => Promise.all(lbs.map((lb) => readOne(backend, servers, lb))),
    };
}
