/**
 * Attaching one server to one load balancer (runbook step 11): add it, enable its check, set it ready
 * and wait until HAProxy reports it UP. A re-run after a half-done attach adopts what matches and fails
 * clearly on what conflicts.
 */
import { RuntimeClient } from "./client";
import { backendStats } from "./backendStats";
import type { StatRow } from "./parsers";
import type { LoadBalancerRef, MembershipSpec } from "./membershipSpec";
import { progress } from "../providerLog";
import { setTimeout as sleep } from "node:timers/promises";

/** Interval between two status reads while waiting for UP, in ms (at most the check interval). */
const UP_POLL_MS = 100;

/** `addr` as `show stat` prints it for this spec. */
export function expectedAddr(spec: Pick<MembershipSpec, "address" | "port">): string {
    return spec.address.includes(":") ? `[${spec.address}]:${spec.port}` : `${spec.address}:${spec.port}`;
}

/** Whether a `show stat` status means the server takes traffic: `UP` (also `UP 1/3`, failing) or `no check`. */
export function isServing(status: string | undefined): boolean {
    return status !== undefined && (/^UP\b/.test(status) || status === "no check");
}

/** Describes a row for error messages: status and the last health check. */
export function describeRow(row: StatRow | undefined): string {
    if (!row) return "not present";
    const check = [row.check_status, row.check_desc].filter(Boolean).join(" ");
    return `status ${row.status ?? "?"}${check ? `, last check ${check}` : ""}`;
}

/**
 * Attaches `spec`'s server on one load balancer and waits until it is UP.
 * Returns whether the server was already there (adopted) rather than added.
 */
export async function attachOne(client: RuntimeClient, lb: LoadBalancerRef, spec: MembershipSpec): Promise<{ adopted: boolean }> {
    const { backend, server } = spec;
    const existing = await backendStats(client, backend).server(server);
    if (existing && existing.addr !== undefined && existing.addr !== expectedAddr(spec)) {
        throw new Error(
            `${lb.name}: server ${backend}/${server} already exists with address ${existing.addr}, expected ${expectedAddr(spec)}; ` +
                "remove it or choose another server name",
        );
    }
    if (!existing) {
        await client.addServer(backend, server, { address: spec.address, port: spec.port, weight: spec.weight, check: spec.check });
    }
    if (spec.check.enabled) {
        // HAProxy reports a server UP (`UP 1/3`, check INI) as soon as it is ready, before any check
        // ran; so the check must pass while the server is still in MAINT, and only then is it made ready.
        await client.enableHealth(backend, server);
        await waitFor(client, lb, spec, (row) => row?.check_status === "L7OK" || row?.check_status === "L4OK", "its health check did not pass");
    }
    await client.setState(backend, server, "ready");
    await waitFor(client, lb, spec, (row) => row?.status === "UP" || row?.status === "no check", "it was not UP");
    progress(`${lb.name}: ${backend}/${server} ${existing ? "adopted" : "attached"} and UP`);
    return { adopted: existing !== undefined };
}

/** Polls the server's row until `done`, bounded by the attach timeout (one deadline per call). */
async function waitFor(
    client: RuntimeClient,
    lb: LoadBalancerRef,
    spec: MembershipSpec,
    done: (row: StatRow | undefined) => boolean,
    failure: string,
): Promise<void> {
    const deadline = Date.now() + spec.attachTimeoutMs;
    const interval = Math.min(UP_POLL_MS, spec.check.inter ?? UP_POLL_MS);
    for (;;) {
        const row = await backendStats(client, spec.backend).server(spec.server);
        if (done(row)) return;
        if (Date.now() >= deadline) {
            throw new Error(`${lb.name}: ${spec.backend}/${spec.server}: ${failure} within ${spec.attachTimeoutMs} ms (${describeRow(row)})`);
        }
        await sleep(interval);
    }
}
