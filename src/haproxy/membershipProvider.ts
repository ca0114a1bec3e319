/**
 * The Membership dynamic provider: loaded by the provider shim inside the dynamic-provider host.
 *
 * What HAProxy says wins over what the state remembers: `diff` asks every load balancer, so a plain
 * `pulumi up` notices a server lost by a reload or restart, left in DRAIN or MAINT (a rollback after a
 * drain timeout), or missing from the servers file, and `update` repairs it before anything is drained.
 *
 * - create: attach on every load balancer in parallel; on failure take the server back out everywhere.
 * - update: drain from load balancers no longer listed, then make the server serve on every listed one.
 * - delete: check nothing blocks the removal, then drain on every load balancer and detach.
 * - read: which load balancers have the server now.
 *
 * Load balancers named in the stack config key `haproxy-bluegreen:forgetLoadBalancers` (read by
 * `configure`) are gone for good: never contacted, by any membership, old generations' included.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ensureServing, isServingAsSpecified, describeRow } from "./attach";
import { drainOne } from "./drain";
import { detachOne, referencedError } from "./detach";
import { removeHealthFile } from "./healthFile";
import { accessTo, firstLine, isTransient, serverNow } from "./loadBalancerAccess";
import { PINNED_FIELDS, REPLACE_FIELDS, resolveMembershipSpec, type LoadBalancerRef, type MembershipSpec } from "./membershipSpec";
import { checkOptionsAgree, ServerOptionsError } from "./preflight";
import { RuntimeInputError } from "./runtime/validate";
import { containsUnknown } from "../provider/previewValues";
import { progress } from "../provider/providerLog";
import { recordTiming } from "../provider/timings";
import { FORGET_CONFIG_KEY, isForgotten, reachable, rememberForgotten } from "./forget";

/** What a Membership stores: its spec plus where it is attached now. */
export interface MembershipOutputs extends MembershipSpec {
    /** Names of the load balancers that have the server, as last seen. */
    attachedTo: string[];
}

/**
 * The spec stored in a membership's outputs. Memberships stored before servers files existed have none
 * on their load balancers: they are runtime-only.
 */
function specOf(props: Record<string, unknown>): MembershipSpec {
    const inputs = specInputs(props);
    const lbs = Array.isArray(inputs.loadBalancers) ? (inputs.loadBalancers as Record<string, unknown>[]) : [];
    const legacy = inputs.runtimeOnly === undefined && lbs.length > 0 && lbs.every((lb) => lb?.serversFile === undefined);
    return resolveMembershipSpec(legacy ? { ...inputs, runtimeOnly: true } : inputs);
}

/** Runs `task` on every load balancer in parallel; throws one error naming each one that failed. */
async function onEach<T>(what: string, lbs: LoadBalancerRef[], task: (lb: LoadBalancerRef) => Promise<T>): Promise<T[]> {
    const settled = await Promise.allSettled(lbs.map(task));
    const failures = settled.flatMap((s, i) => (s.status === "rejected" ? [`${lbs[i].name}: ${(s.reason as Error).message}`] : []));
    if (failures.length > 0) throw new Error(`${what} failed on ${failures.length} of ${lbs.length} load balancers:\n  ${failures.join("\n  ")}`);
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/**
 * Fails, before anything changes, if a load balancer's own configuration refers to the server
 * (another server's `track`): HAProxy would refuse to delete it after the drain.
 */
async function checkRemovable(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<void> {
    await onEach(`checking that ${spec.backend}/${spec.server} can be removed`, lbs, async (lb) => {
        const client = accessTo(lb, spec).client;
        const rows = await client
            .currentProcess()
            .then(() => client.showStat())
            .catch((err) => {
                if (isTransient(err)) return []; // unreachable now: the drain retries and reports it
                throw err;
            });
        const trackers = rows.filter((r) => r.tracked === `${spec.backend}/${spec.server}`).map((r) => `${r.pxname}/${r.svname}`);
        if (trackers.length > 0) {
            throw referencedError(`${lb.name}: ${spec.backend}/${spec.server}`, `tracked by ${trackers.join(", ")} (track ${spec.backend}/${spec.server})`);
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

/** Drains and removes the server on `lbs` (all of them share one drain deadline). */
export async function detach(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<DetachResult[]> {
    if (lbs.length === 0) return [];
    await checkRemovable(spec, lbs);
    if (spec.drain.method === "healthcheck" && spec.drain.healthFile) await removeHealthFile(spec.drain.healthFile);
    const deadline = Date.now() + spec.drain.timeoutMs;
    return onEach(`draining ${spec.backend}/${spec.server}`, lbs, async (lb): Promise<DetachResult> => {
        const access = accessTo(lb, spec);
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

/** Makes the server serve on every one of `lbs` (attach, or repair after a reload, drain or drift). */
async function serveOn(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<void> {
    const deadline = Date.now() + spec.attachTimeoutMs;
    await onEach(`attaching ${spec.backend}/${spec.server}`, lbs, (lb) => ensureServing(accessTo(lb, spec), spec, deadline));
}

/**
 * The server options pre-flight (preflight.ts) on every one of `lbs`; nothing is changed. A load
 * balancer that cannot be asked now is left to the attach, which checks again before it adds the server.
 */
export async function checkOptions(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<void> {
    await onEach(`checking the options of ${spec.backend}/${spec.server}`, lbs, (lb) =>
        checkOptionsAgree(accessTo(lb, spec), spec).catch((err) => {
            if (!isTransient(err)) throw err;
        }),
    );
}

/**
 * Attaches on `lbs` after the options pre-flight passed on all of them; if any attach fails, takes the
 * server back out of all of them before failing.
 */
export async function attach(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<void> {
    await checkOptions(spec, lbs);
    try {
        await serveOn(spec, lbs);
    } catch (err) {
        const undo = { ...spec, drain: { ...spec.drain, method: "drain" as const, onTimeout: "force" as const, quietPeriodMs: 0, minimumMs: 0 } };
        await detach(undo, lbs).catch((undoErr: Error) => {
            throw new Error(`${(err as Error).message}\nand taking the server back out failed too: ${undoErr.message}`);
        });
        throw err;
    }
}

/**
 * What differs between what HAProxy has and a serving membership, one line per load balancer
 * (not UP with its weight, missing from its servers file, unreachable). Empty when all is as it should be.
 */
export async function servingDrift(spec: MembershipSpec): Promise<string[]> {
    const drift = await Promise.all(
        reachable(spec.loadBalancers).map(async (lb) => {
            const access = accessTo(lb, spec);
            try {
                const { row } = await serverNow(access.client, spec.backend, spec.server);
                if (!isServingAsSpecified(row, spec)) return `${lb.name}: ${describeRow(row)}${row ? `, weight ${row.weight}` : ""}`;
                if (!(await access.isRecorded(spec, "ready"))) return `${lb.name}: not in its servers file ${lb.serversFile}`;
                return undefined;
            } catch (err) {
                return `${lb.name}: ${firstLine(err)}`;
            }
        }),
    );
    return drift.filter((d): d is string => d !== undefined);
}

/** Names of the load balancers that have the server now. An unreachable load balancer fails the read. */
async function attachedNow(spec: MembershipSpec): Promise<string[]> {
    const lbs = reachable(spec.loadBalancers);
    const present = await onEach(`reading ${spec.backend}/${spec.server}`, lbs, async (lb) => {
        return (await serverNow(accessTo(lb, spec).client, spec.backend, spec.server)).row !== undefined;
    });
    return lbs.filter((_, i) => present[i]).map((lb) => lb.name);
}

function outputs(spec: MembershipSpec, attachedTo: string[]): MembershipOutputs {
    return { ...spec, attachedTo } satisfies MembershipOutputs;
}

const provider: pulumi.dynamic.ResourceProvider = {
    async configure(req) {
        rememberForgotten(req.config.get(FORGET_CONFIG_KEY));
    },

    async check(olds, news) {
        const known = knownForCheck(specInputs(news));
        if (!known) return { inputs: news };
        let spec: MembershipSpec;
        try {
            spec = resolveMembershipSpec(known);
        } catch (err) {
            if (!(err instanceof RuntimeInputError)) throw err;
            return { inputs: news, failures: [{ property: err.field, reason: err.message }] };
        }
        // A membership about to be created: its options pre-flight runs already in the preview.
        if (Object.keys(olds).length > 0) return { inputs: news };
        const checks = await Promise.allSettled(reachable(spec.loadBalancers).map((lb) => checkOptionsAgree(accessTo(lb, spec), spec)));
        // Only disagreements fail the check; a load balancer that cannot be asked now is reported by the attach.
        const failures = checks.flatMap((c) => (c.status === "rejected" && c.reason instanceof ServerOptionsError ? [{ property: "options", reason: c.reason.message }] : []));
        return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        const inputs = specInputs(news);
        if (containsUnknown(inputs)) {
            const replaces = REPLACE_FIELDS.filter((f) => containsUnknown(inputs[f]) || JSON.stringify(inputs[f]) !== JSON.stringify(olds[f]));
            return { changes: true, replaces, deleteBeforeReplace: inputs.server === olds.server && inputs.backend === olds.backend };
        }
        const before = specOf(olds);
        const after = resolveMembershipSpec(inputs);
        const replaces = REPLACE_FIELDS.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
        const pinned = PINNED_FIELDS.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
        if (pinned.length > 0 && replaces.length === 0) {
            progress(`${after.backend}/${after.server} keeps the ${pinned.join(" and ")} it was attached with; the change applies to the next generation's servers`);
        }
        const fixed: readonly string[] = [...REPLACE_FIELDS, ...PINNED_FIELDS];
        const inPlace = (Object.keys(after) as (keyof MembershipSpec)[]).filter((f) => !fixed.includes(f) && JSON.stringify(before[f]) !== JSON.stringify(after[f]));
        const drift = replaces.length > 0 || inPlace.length > 0 ? [] : await servingDrift(withPinned(after, before));
        if (drift.length > 0) progress(`${after.backend}/${after.server} differs from what it should be, to repair:\n  ${drift.join("\n  ")}`);
        return {
            changes: replaces.length > 0 || inPlace.length > 0 || drift.length > 0,
            replaces,
            // The same server name cannot be in one backend twice: remove the old one first.
            deleteBeforeReplace: before.server === after.server && before.backend === after.backend,
        };
    },

    async create(inputs) {
        const spec = resolveMembershipSpec(specInputs(inputs));
        const lbs = reachable(spec.loadBalancers);
        await attach(spec, lbs);
        return { id: `${spec.backend}/${spec.server}`, outs: outputs(spec, lbs.map((lb) => lb.name)) };
    },

    async read(id, props) {
        const spec = specOf(props);
        const attachedTo = await attachedNow(spec);
        // Gone everywhere: the resource no longer exists; the next `up` attaches it again.
        if (attachedTo.length === 0) return {};
        return { id, props: outputs(spec, attachedTo), inputs: specInputs(props) };
    },

    async update(_id, olds, news) {
        const before = specOf(olds);
        const after = withPinned(resolveMembershipSpec(specInputs(news)), before);
        const removed = reachable(before.loadBalancers).filter((lb) => !after.loadBalancers.some((n) => n.name === lb.name));
        await detach({ ...before, loadBalancers: removed }, removed);
        const lbs = reachable(after.loadBalancers);
        await serveOn(after, lbs);
        return { outs: outputs(after, lbs.map((lb) => lb.name)) };
    },

    async delete(_id, props) {
        const spec = specOf(props);
        const skipped = spec.loadBalancers.filter((lb) => isForgotten(lb.name)).map((lb) => lb.name);
        if (skipped.length > 0) progress(`${spec.backend}/${spec.server}: not contacting ${skipped.join(", ")} (${FORGET_CONFIG_KEY})`);
        await detach(spec, reachable(spec.loadBalancers));
    },
};

/** `spec` with the fields the server keeps from its attach (PINNED_FIELDS) taken from `attached`. */
function withPinned(spec: MembershipSpec, attached: MembershipSpec): MembershipSpec {
    return { ...spec, check: attached.check, options: attached.options };
}

/**
 * The inputs `check` can validate: all of them when known; during a preview, a membership of a server
 * not created yet has no address or port, and is checked with placeholders (TEST-NET-1, port 1).
 * `undefined` if anything else is unknown.
 */
function knownForCheck(inputs: Record<string, unknown>): Record<string, unknown> | undefined {
    const placeholders = { address: "192.0.2.1", port: 1 };
    const filled = Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [k, k in placeholders && containsUnknown(v) ? placeholders[k as keyof typeof placeholders] : v]),
    );
    return containsUnknown(filled) ? undefined : filled;
}

/**
 * The spec fields of raw inputs or outputs: without the engine's `__provider`, `attachedTo`, and the
 * `instance` of load balancers that earlier versions stored (HAProxy is asked instead now).
 */
function specInputs(values: Record<string, unknown>): Record<string, unknown> {
    const { attachedTo: _attached, __provider: _provider, ...inputs } = values;
    const defined = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined));
    if (Array.isArray(defined.loadBalancers)) {
        defined.loadBalancers = defined.loadBalancers.map((lb: unknown) => {
            if (typeof lb !== "object" || lb === null) return lb;
            const { instance: _instance, ...rest } = lb as Record<string, unknown>;
            return rest;
        });
    }
    return defined;
}

export default provider;
