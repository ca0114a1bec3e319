/**
 * Attaching one server to one load balancer (runbook step 11), and the repair every later `pulumi up`
 * makes: the server is present, its health check passes, it is ready (not DRAIN or MAINT) with its
 * weight, HAProxy reports it UP, and the servers file records it, so the next HAProxy process has it too.
 *
 * Each round first asks which HAProxy process answers (`currentProcess`), so a reload or restart in the
 * middle is followed to the new process, which is then brought to the same state. A server that is
 * already there with the same address is adopted; one with another address is a conflict, and one
 * whose line in the servers file names another owner is left alone (ownership.ts).
 */
import { formatAddress, RuntimeClient, RuntimeCommandError } from "./runtime/client";
import type { StatRow } from "./runtime/parsers";
import type { MembershipSpec } from "./membershipSpec";
import { cookieFor, firstLine, inRounds, serverNow, type LoadBalancerAccess } from "./loadBalancerAccess";
import { checkOptionsAgree } from "./preflight";
import { progress } from "../provider/providerLog";
import { ServerOwnedError } from "./ownership";

/** Interval between two status reads while waiting for UP, in ms (at most the check interval). */
const UP_POLL_MS = 100;

/** `addr` as `show stat` prints it for this spec. */
export function expectedAddr(spec: Pick<MembershipSpec, "address" | "port">): string {
    return formatAddress(spec.address, spec.port);
}

/** Raised when the backend has a server of that name with another address: not ours to change or remove. */
export class ServerConflictError extends Error {
    readonly name = "ServerConflictError";
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

/** Whether the server's row shows what a serving membership wants: UP (or no check) with its weight. */
export function isServingAsSpecified(row: StatRow | undefined, spec: MembershipSpec): boolean {
    return row !== undefined && (row.status === "UP" || row.status === "no check") && row.weight === spec.weight && row.addr === expectedAddr(spec);
}

function checkPassed(row: StatRow, spec: MembershipSpec): boolean {
    return !spec.check.enabled || row.check_status === "L7OK" || row.check_status === "L4OK";
}

/**
 * Brings `spec`'s server to serving on one load balancer and records it in the servers file; returns
 * whether it was already there (adopted) rather than added. Fails at `deadline` with the last status.
 */
export async function ensureServing(access: LoadBalancerAccess, spec: MembershipSpec, deadline: number): Promise<{ adopted: boolean }> {
    const { client, lb } = access;
    const { backend, server } = spec;
    const name = `${lb.name}: ${backend}/${server}`;
    const interval = Math.min(UP_POLL_MS, spec.check.inter ?? UP_POLL_MS);
    let adopted: boolean | undefined;
    let recordedMaint = false;
    let optionsChecked = false;
    let ownerChecked = false;
    let healthEnabledOn: string | undefined;
    let readiedOn: string | undefined;
    /** The process in which this attach added the server. */
    let addedOn: string | undefined;
    let lastRow: StatRow | undefined;
    let servingOn: string | undefined;
    await inRounds(
        { deadline, intervalMs: interval, name },
        async () => {
            if (!ownerChecked) {
                const other = await access.otherOwner(spec);
                if (other) throw new ServerOwnedError(name, other, spec.owner);
                ownerChecked = true;
            }
            const { process, row } = await serverNow(client, backend, server);
            lastRow = row;
            if (servingOn !== undefined) {
                // The line was recorded as ready: done if no other process took over meanwhile.
                if (servingOn === process) return { done: undefined };
                servingOn = undefined;
            }
            if (row?.addr !== undefined && row.addr !== expectedAddr(spec)) {
                throw new ServerConflictError(`${name} already exists with address ${row.addr}, expected ${expectedAddr(spec)}; remove it or choose another server name`);
            }
            // In MAINT without a passed check: it never served yet.
            const unchecked = row !== undefined && /^MAINT/.test(row.status ?? "") && !checkPassed(row, spec);
            if (!row && !optionsChecked) {
                await checkOptionsAgree(access, spec);
                optionsChecked = true;
            }
            if (!row || unchecked) {
                // Recorded in MAINT first, so that a reload cannot serve it unchecked.
                if (!recordedMaint) await access.record(spec, "maint");
                recordedMaint = true;
            }
            if (!row) {
                adopted ??= false;
                await addServer(client, spec);
                addedOn = process;
                return "again";
            }
            adopted ??= true;
            if (spec.options.cookie && !row.cookie) await giveDynamicCookie(access, spec);
            if (isServingAsSpecified(row, spec)) {
                await access.record(spec, "ready");
                servingOn = process;
                return "again";
            }
            if (unchecked && addedOn !== process) {
                // Not added by this attach in this process: a new process (a reload or restart in the middle
                // of the attach, or after a killed one) loaded it from the servers file in MAINT (`disabled`),
                // and such a server never runs its health check after `enable health` (HAProxy 2.6 to 3.2,
                // docs/HAPROXY_VERSIONS.md). It never served: it is removed, and added again next round
                // (one that still has connections, a server put in MAINT by hand, is checked in place).
                if (!(await removeUnchecked(client, spec))) addedOn = process;
                return "again";
            }
            if (unchecked) {
                // HAProxy reports a server UP (`UP 1/3`, check INI) as soon as it is ready, before any check
                // ran; so the check must pass while the server is still in MAINT, and only then is it made ready.
                if (healthEnabledOn !== process) await client.enableHealth(backend, server);
                healthEnabledOn = process;
                return "again";
            }
            if (readiedOn !== process || row.weight !== spec.weight) {
                // A drain stopped the agent check (drain.ts): a server made to serve again gets it back.
                if (spec.options.agent) await client.enableAgent(backend, server);
                await client.setWeight(backend, server, spec.weight);
                await client.setState(backend, server, "ready");
                readiedOn = process;
            }
            return "again";
        },
        (lastError) =>
            new Error(
                `${name}: not UP within ${spec.attachTimeoutMs} ms (${describeRow(lastRow)})` +
                    (lastError ? `; last error: ${firstLine(lastError)}` : ""),
            ),
    );
    progress(`${name} ${adopted ? "adopted" : "attached"} and UP`);
    return { adopted: adopted ?? true };
}

/**
 * A server with `options.cookie` but no cookie: on versions whose `add server` takes no `cookie`, the
 * backend's dynamic cookie is turned on for it; a backend without a dynamic cookie key cannot give it
 * one, and clients would silently lose their server, so the attach fails before the server serves.
 */
async function giveDynamicCookie(access: LoadBalancerAccess, spec: MembershipSpec): Promise<void> {
    const { client, lb } = access;
    await client.enableDynamicCookie(spec.backend);
    if ((await client.getServer(spec.backend, spec.server))?.cookie) return;
    throw new Error(
        `${lb.name}: ${spec.backend}/${spec.server} has no persistence cookie on HAProxy ${client.lastProcess?.version ?? "(unknown version)"}, ` +
            "which takes no `cookie` on `add server` before 3.0: give the backend `cookie <name> insert dynamic` and `dynamic-cookie-key <key>` " +
            "(docs/OPERATING.md, sticky sessions), or set the server option cookie to false if the backend does not use cookie persistence",
    );
}

/** `del server` of a server in MAINT without a passed check; false if it still has connections. One already gone is fine. */
async function removeUnchecked(client: RuntimeClient, spec: MembershipSpec): Promise<boolean> {
    try {
        await client.delServer(spec.backend, spec.server);
    } catch (err) {
        if (err instanceof RuntimeCommandError && err.code === "still-has-connections") return false;
        if (!(err instanceof RuntimeCommandError && err.code === "no-such-server")) throw err;
    }
    return true;
}

/** `add server`; one that exists already (a reload loaded it from the servers file meanwhile) is left to the next round. */
async function addServer(client: RuntimeClient, spec: MembershipSpec): Promise<void> {
    const cookie = cookieFor(spec, client.lastProcess?.version);
    try {
        await client.addServer(spec.backend, spec.server, {
            address: spec.address,
            port: spec.port,
            weight: spec.weight,
            check: spec.check,
            options: spec.options,
            ...(cookie ? { cookie } : {}),
        });
    } catch (err) {
        if (!(err instanceof RuntimeCommandError && err.code === "already-exists")) throw err;
    }
}
