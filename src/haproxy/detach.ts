/**
 * Detaching one drained server from one load balancer (runbook step 14): out of the servers file, into
 * MAINT, deleted; repeated on any process that a reload started in the meantime, until the process that
 * answers has no such server. Idle pooled connections to the server may still block the delete: HAProxy
 * 3.0 and later are asked to wait until it is removable (`wait <ms> srv-removable`), 2.6, which has no
 * such command and closes them after `pool-purge-delay` (5 s by default), is asked again every 100 ms.
 * Both within `detachTimeoutMs`.
 */
import { RuntimeCommandError } from "./runtime/client";
import type { MembershipSpec } from "./membershipSpec";
import { firstLine, inRounds, serverNow, type LoadBalancerAccess } from "./loadBalancerAccess";
import { hasWaitSrvRemovable } from "./runtime/versions";
import { progress } from "../provider/providerLog";

/** Interval between two delete attempts on HAProxy 2.6, in ms. */
const RETRY_MS = 100;
/** Longest single `wait ... srv-removable`, in ms: below the Runtime API client's I/O timeout (5 s). */
const WAIT_SLICE_MS = 3_000;

/** Raised when a server cannot be deleted because other configuration refers to it. */
export class ReferencedServerError extends Error {}

/** Removes the server; returns when it was deleted, or `undefined` if no process had it. */
export async function detachOne(access: LoadBalancerAccess, spec: MembershipSpec): Promise<number | undefined> {
    const { client, lb } = access;
    const { backend, server } = spec;
    const name = `${lb.name}: ${backend}/${server}`;
    await access.record(spec, undefined);
    let removedAt: number | undefined;
    let waitingShown = false;
    const deadline = Date.now() + spec.detachTimeoutMs;
    const showWaiting = (process: string) => {
        if (!waitingShown) progress(`${name}: waiting for HAProxy to close idle connections before removing it (process ${process})`);
        waitingShown = true;
    };
    return inRounds(
        { deadline, intervalMs: RETRY_MS, name },
        async () => {
            const { process, row } = await serverNow(client, backend, server);
            if (!row) return { done: removedAt };
            if (!/^MAINT/.test(row.status ?? "")) await client.setState(backend, server, "maint");
            const waitMs = Math.min(WAIT_SLICE_MS, deadline - Date.now());
            if (hasWaitSrvRemovable(client.lastProcess?.version) && waitMs >= 1 && !(await client.waitRemovable(backend, server, waitMs))) {
                showWaiting(process);
                return "again";
            }
            try {
                await client.delServer(backend, server);
                removedAt = Date.now();
            } catch (err) {
                if (!(err instanceof RuntimeCommandError)) throw err;
                if (err.code === "referenced") throw referencedError(name, err.reply);
                if (err.code !== "still-has-connections" && err.code !== "no-such-server") throw err;
                if (err.code === "still-has-connections") showWaiting(process);
            }
            return "again";
        },
        (lastError) =>
            new Error(
                `${name}: could not be removed within ${spec.detachTimeoutMs} ms (detachTimeoutMs)${lastError ? `: ${firstLine(lastError)}` : ""}; ` +
                    "it is in MAINT, out of rotation: run `pulumi up` again, or raise haproxy.detachTimeoutSeconds",
            ),
    );
}

/** The error for a server that other configuration refers to (`track`, `use-server`, ...). */
export function referencedError(name: string, reply: string): ReferencedServerError {
    return new ReferencedServerError(
        `${name} cannot be removed: HAProxy says ${JSON.stringify(reply.trim())}. Another server's \`track\` (or a ` +
            "`use-server` rule) in the load balancer's own configuration points to it: remove that reference from " +
            "haproxy.cfg and reload HAProxy, then run `pulumi up` again.",
    );
}
