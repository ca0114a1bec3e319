/**
 * Detaching one drained server from one load balancer (runbook step 14): out of the servers file, into
 * MAINT, deleted; repeated on any process that a reload started in the meantime, until the process that
 * answers has no such server. `del server` is retried while HAProxy still holds idle connections to it.
 */
import { RuntimeCommandError } from "./runtime/client";
import type { MembershipSpec } from "./membershipSpec";
import { firstLine, inRounds, serverNow, type LoadBalancerAccess } from "./loadBalancerAccess";
import { progress } from "../provider/providerLog";

/** Longest wait for HAProxy to release idle connections (and for a reachable process) after the sessions ended, in ms. */
export const DETACH_TIMEOUT_MS = 30_000;
/** Interval between two delete attempts, in ms. */
const RETRY_MS = 100;

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
    return inRounds(
        { deadline: Date.now() + DETACH_TIMEOUT_MS, intervalMs: RETRY_MS, name },
        async () => {
            const { process, row } = await serverNow(client, backend, server);
            if (!row) return { done: removedAt };
            if (!/^MAINT/.test(row.status ?? "")) await client.setState(backend, server, "maint");
            try {
                await client.delServer(backend, server);
                removedAt = Date.now();
            } catch (err) {
                if (!(err instanceof RuntimeCommandError)) throw err;
                if (err.code === "referenced") throw referencedError(name, err.reply);
                if (err.code !== "still-has-connections" && err.code !== "no-such-server") throw err;
                if (err.code === "still-has-connections" && !waitingShown) {
                    progress(`${name}: waiting for HAProxy to close idle connections before removing it (process ${process})`);
                    waitingShown = true;
                }
            }
            return "again";
        },
        (lastError) => new Error(`${name}: could not be removed within ${DETACH_TIMEOUT_MS} ms${lastError ? `: ${firstLine(lastError)}` : ""}`),
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
