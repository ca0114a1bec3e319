/**
 * What the membership providers do with servers on load balancers, for one server or a whole
 * generation at once (runbook steps 11-14): attach (after the options pre-flight), make serving again
 * (repair), drain and detach, and read what HAProxy has. Every server on every load balancer runs in
 * parallel; the Runtime API clients and status reads are shared (loadBalancerAccess.ts, backendStats.ts),
 * so a generation of 100 servers polls each load balancer once per round, not 100 times.
 */
import { ensureServing, isServingAsSpecified, describeRow, ServerConflictError } from "./attach";
import { drainOne } from "./drain";
import { detachOne, referencedError } from "./detach";
import { removeHealthFile } from "./healthFile";
import { accessTo, firstLine, isTransient, serverNow } from "./loadBalancerAccess";
import type { LoadBalancerRef, MembershipSpec } from "./membershipSpec";
import { checkOptionsAgree } from "./preflight";
import { reachable } from "./forget";
import { progress } from "../provider/providerLog";
import { recordTiming } from "../provider/timings";
import { describeOwner, ServerOwnedError } from "./ownership";

/**
 * Runs `task` on every item in parallel; throws one error naming each item that failed
 * (`<what> failed on 2 of 3 load balancers: ...`).
 */
async function onEach<T, R>(what: string, items: T[], kind: string, nameOf: (item: T) => string, task: (item: T) => Promise<R>): Promise<R[]> {
    const settled = await Promise.allSettled(items.map(task));
    const failures = settled.flatMap((s, i) => (s.status === "rejected" ? [`${nameOf(items[i])}: ${(s.reason as Error).message}`] : []));
    if (failures.length > 0) throw new Error(`${what} failed on ${failures.length} of ${items.length} ${kind}:\n  ${failures.join("\n  ")}`);
    return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

/** `task` on every one of `lbs`, in parallel. */
function onEachLoadBalancer<R>(what: string, lbs: LoadBalancerRef[], task: (lb: LoadBalancerRef) => Promise<R>): Promise<R[]> {
    return onEach(what, lbs, "load balancers", (lb) => lb.name, task);
}

/** `task` on every one of `specs`' servers, in parallel. */
function onEachServer<R>(what: string, specs: MembershipSpec[], task: (spec: MembershipSpec) => Promise<R>): Promise<R[]> {
    return specs.length === 1 ? Promise.all([task(specs[0])]) : onEach(what, specs, "servers", (s) => `${s.backend}/${s.server}`, task);
}

/** `backend/server`, or `backend: N servers (first .. last)`, for messages. */
export function describeServers(specs: MembershipSpec[]): string {
    const [first] = specs;
    if (specs.length === 1) return `${first.backend}/${first.server}`;
    return `${first.backend}: ${specs.length} servers (${first.server} .. ${specs[specs.length - 1].server})`;
}

/**
 * Fails, before anything changes, if a load balancer's own configuration refers to any of the servers
 * (another server's `track`): HAProxy would refuse to delete it after the drain. One status read per
 * load balancer, whatever the number of servers.
 */
async function checkRemovable(specs: MembershipSpec[], lbs: LoadBalancerRef[]): Promise<void> {
    const [first] = specs;
    await onEachLoadBalancer(`checking that ${describeServers(specs)} can be removed`, lbs, async (lb) => {
        const client = accessTo(lb, first).client;
        const rows = await client
            .currentProcess()
            .then(() => client.showStat())
            .catch((err) => {
                if (isTransient(err)) return []; // unreachable now: the drain retries and reports it
                throw err;
            });
        for (const spec of specs) {
            const trackers = rows.filter((r) => r.tracked === `${spec.backend}/${spec.server}`).map((r) => `${r.pxname}/${r.svname}`);
            if (trackers.length > 0) {
                throw referencedError(`${lb.name}: ${spec.backend}/${spec.server}`, `tracked by ${trackers.join(", ")} (track ${spec.backend}/${spec.server})`);
            }
        }
    });
}

/** How the server left one load balancer. */
export interface DetachResult {
    lb: string;
    /** When the sessions were seen at zero everywhere, and when the server was deleted (epoch ms); absent if it was not there. */
    sessionsZeroAt?: number;
    removedAt?: number;
    /** Sessions were shut down at the drain timeout (`onTimeout: force`). */
    forced: boolean;
}

/** Drains and removes one server on `lbs` (all of them share one drain deadline). */
export async function detach(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<DetachResult[]> {
    if (lbs.length === 0) return [];
    await checkRemovable([spec], lbs);
    return drainAndRemove(spec, lbs);
}

/** Drains and removes every one of `specs`' servers on `lbs`, all at once. */
export async function detachAll(specs: MembershipSpec[], lbs: LoadBalancerRef[]): Promise<void> {
    if (lbs.length === 0 || specs.length === 0) return;
    await checkRemovable(specs, lbs);
    await onEachServer(`draining ${describeServers(specs)}`, specs, (spec) => drainAndRemove(spec, lbs));
}

/** Drains one server on `lbs` with one deadline, then removes it; the removal was checked possible. */
async function drainAndRemove(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<DetachResult[]> {
    if (spec.drain.method === "healthcheck" && spec.drain.healthFile) await removeHealthFile(spec.drain.healthFile);
    const deadline = Date.now() + spec.drain.timeoutMs;
    return onEachLoadBalancer(`draining ${spec.backend}/${spec.server}`, lbs, async (lb): Promise<DetachResult> => {
        const access = accessTo(lb, spec);
        const other = await access.otherOwner(spec);
        if (other) {
            progress(`${lb.name}: ${spec.backend}/${spec.server} left alone: ${describeOwner(other)} owns it`);
            return { lb: lb.name, forced: false };
        }
        const startedAt = Date.now();
        const drained = await drainOne(access, spec, deadline);
        const removedAt = await detachOne(access, spec);
        if (drained.absent && removedAt === undefined) return { lb: lb.name, forced: false };
        const timing = `drained in ${drained.sessionsZeroAt - startedAt} ms, detached in ${(removedAt ?? Date.now()) - drained.sessionsZeroAt} ms`;
        progress(`${lb.name}: ${spec.backend}/${spec.server} removed: ${timing}${drained.forced ? " (sessions shut down at the timeout)" : ""}`);
        recordTiming({ kind: "drain", lb: lb.name, backend: spec.backend, server: spec.server, startedAt, sessionsZeroAt: drained.sessionsZeroAt, ...(removedAt === undefined ? {} : { removedAt }), forced: drained.forced });
        return { lb: lb.name, sessionsZeroAt: drained.sessionsZeroAt, removedAt, forced: drained.forced };
    });
}

/**
 * Makes every one of `specs`' servers serve on every one of `lbs` (attach, or repair after a reload,
 * drain or drift). `conflicts` collects `<lb>/<server>` where another server of that name was found.
 */
export async function serveOn(specs: MembershipSpec[], lbs: LoadBalancerRef[], conflicts = new Set<string>()): Promise<void> {
    await onEachServer(`attaching ${describeServers(specs)}`, specs, async (spec) => {
        const deadline = Date.now() + spec.attachTimeoutMs;
        await onEachLoadBalancer(`attaching ${spec.backend}/${spec.server}`, lbs, (lb) =>
            ensureServing(accessTo(lb, spec), spec, deadline).catch((err) => {
                if (err instanceof ServerConflictError || err instanceof ServerOwnedError) conflicts.add(`${lb.name}/${spec.server}`);
                throw err;
            }),
        );
    });
}

/**
 * The server options pre-flight (preflight.ts) on every one of `lbs`; nothing is changed. A load
 * balancer that cannot be asked now is left to the attach, which checks again before it adds the server.
 * The servers of one membership share their options, so the first one's are checked.
 */
export async function checkOptions(specs: MembershipSpec[], lbs: LoadBalancerRef[]): Promise<void> {
    const [spec] = specs;
    await onEachLoadBalancer(`checking the options of ${describeServers(specs)}`, lbs, (lb) =>
        checkOptionsAgree(accessTo(lb, spec), spec).catch((err) => {
            if (!isTransient(err)) throw err;
        }),
    );
}

/**
 * Attaches every one of `specs`' servers on `lbs` after the options pre-flight passed on all of them;
 * if any attach fails, takes all of them back out of all of them before failing, except where a server
 * of that name with another address, or another owner, was there already (not this attach's to remove).
 */
export async function attach(specs: MembershipSpec[], lbs: LoadBalancerRef[]): Promise<void> {
    if (specs.length === 0) return;
    await checkOptions(specs, lbs);
    const conflicts = new Set<string>();
    try {
        await serveOn(specs, lbs, conflicts);
    } catch (err) {
        const undo = (spec: MembershipSpec) => {
            const own = lbs.filter((lb) => !conflicts.has(`${lb.name}/${spec.server}`));
            return detach({ ...spec, drain: { ...spec.drain, method: "drain", onTimeout: "force", quietPeriodMs: 0, minimumMs: 0 } }, own);
        };
        await onEachServer(`taking ${describeServers(specs)} back out`, specs, undo).catch((undoErr: Error) => {
            throw new Error(`${(err as Error).message}\nand taking the servers back out failed too: ${undoErr.message}`);
        });
        throw err;
    }
}

/**
 * What differs between what HAProxy has and serving memberships, one line per server and load balancer
 * (not UP with its weight, missing from its servers file, unreachable). Empty when all is as it should be.
 */
export async function servingDrift(specs: MembershipSpec[]): Promise<string[]> {
    const drift = await Promise.all(
        specs.flatMap((spec) =>
            reachable(spec.loadBalancers).map(async (lb) => {
                const access = accessTo(lb, spec);
                const name = `${lb.name}: ${spec.backend}/${spec.server}`;
                try {
                    const { row } = await serverNow(access.client, spec.backend, spec.server);
                    if (!isServingAsSpecified(row, spec)) return `${name}: ${describeRow(row)}${row ? `, weight ${row.weight}` : ""}`;
                    if (!(await access.isRecorded(spec, "ready"))) return `${name}: not in its servers file ${lb.serversFile}`;
                    return undefined;
                } catch (err) {
                    return `${name}: ${firstLine(err)}`;
                }
            }),
        ),
    );
    return drift.filter((d): d is string => d !== undefined);
}

/** Names of the load balancers that have any of `specs`' servers now. An unreachable load balancer fails the read. */
export async function attachedNow(specs: MembershipSpec[]): Promise<string[]> {
    const [first] = specs;
    const lbs = reachable(first.loadBalancers);
    const present = await onEachLoadBalancer(`reading ${describeServers(specs)}`, lbs, async (lb) => {
        const found = await Promise.all(specs.map(async (spec) => (await serverNow(accessTo(lb, spec).client, spec.backend, spec.server)).row !== undefined));
        return found.some(Boolean);
    });
    return lbs.filter((_, i) => present[i]).map((lb) => lb.name);
}
