/**
 * The Membership dynamic provider: loaded by the provider shim inside the dynamic-provider host.
 *
 * - create: attach on every load balancer in parallel; on failure take the server back out everywhere,
 *   so a failed attach leaves nothing behind.
 * - delete: drain on every load balancer in parallel, wait for sessions to reach zero, detach.
 * - read: what HAProxy really has (a server lost by a reload is drift that the next `up` repairs).
 * - update: weight in place, attach to added load balancers, drain from removed ones.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { attachOne } from "./attach";
import { RuntimeClient } from "./client";
import { backendStats } from "./backendStats";
import { drainOne, type DrainResult } from "./drain";
import { removeHealthFile } from "./healthFile";
import { REPLACE_FIELDS, resolveMembershipSpec, type LoadBalancerRef, type MembershipSpec } from "./membershipSpec";
import { RuntimeInputError } from "./validate";
import { containsUnknown } from "../previewValues";

/** What a Membership stores: its spec plus where it is attached now. */
export interface MembershipOutputs extends MembershipSpec {
    /** Names of the load balancers that have the server, as last seen. */
    attachedTo: string[];
}

/** The spec stored in a membership's outputs. */
function specOf(props: Record<string, unknown>): MembershipSpec {
    return resolveMembershipSpec(specInputs(props));
}

/** One client per endpoint and credentials, shared by every membership in this provider host. */
const clients = new Map<string, RuntimeClient>();

function clientFor(lb: LoadBalancerRef, spec: MembershipSpec): RuntimeClient {
    const key = createHash("sha256").update(JSON.stringify([lb.endpoint, spec.ssh ?? null])).digest("hex");
    let client = clients.get(key);
    if (!client) {
        client = new RuntimeClient(lb.endpoint, spec.ssh ? { ssh: spec.ssh } : {});
        clients.set(key, client);
    }
    return client;
}

/** Runs `task` on every load balancer in parallel; throws one error naming each one that failed. */
async function onEach<T>(what: string, lbs: LoadBalancerRef[], task: (lb: LoadBalancerRef) => Promise<T>): Promise<T[]> {
    const settled = await Promise.allSettled(lbs.map(task));
    const failures = settled.flatMap((s, i) => (s.status === "rejected" ? [`${lbs[i].name}: ${(s.reason as Error).message}`] : []));
    if (failures.length > 0) throw new Error(`${what} failed on ${failures.length} of ${lbs.length} load balancers:\n  ${failures.join("\n  ")}`);
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** Drains and removes the server on `lbs` (all of them share one deadline). */
export async function detach(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<DrainResult[]> {
    if (spec.drain.method === "healthcheck" && spec.drain.healthFile) await removeHealthFile(spec.drain.healthFile);
    const deadline = Date.now() + spec.drain.timeoutMs;
    return onEach(`draining ${spec.backend}/${spec.server}`, lbs, (lb) => drainOne(clientFor(lb, spec), lb, spec, deadline));
}

/** Attaches on `lbs`; if any fails, takes the server back out of all of them before failing. */
export async function attach(spec: MembershipSpec, lbs: LoadBalancerRef[]): Promise<void> {
    try {
        await onEach(`attaching ${spec.backend}/${spec.server}`, lbs, (lb) => attachOne(clientFor(lb, spec), lb, spec));
    } catch (err) {
        const undo = { ...spec, drain: { ...spec.drain, method: "drain" as const, onTimeout: "force" as const } };
        await detach(undo, lbs).catch((undoErr: Error) => {
            throw new Error(`${(err as Error).message}\nand taking the server back out failed too: ${undoErr.message}`);
        });
        throw err;
    }
}

/** Names of the load balancers that have the server now. An unreachable load balancer fails the read. */
async function attachedNow(spec: MembershipSpec): Promise<string[]> {
    const present = await onEach(`reading ${spec.backend}/${spec.server}`, spec.loadBalancers, async (lb) =>
        (await backendStats(clientFor(lb, spec), spec.backend).server(spec.server).catch((err) => {
            if ((err as { code?: string }).code === "no-such-backend") return undefined;
            throw err;
        })) !== undefined,
    );
    return spec.loadBalancers.filter((_, i) => present[i]).map((lb) => lb.name);
}

function outputs(spec: MembershipSpec, attachedTo: string[]): MembershipOutputs {
    return { ...spec, attachedTo } satisfies MembershipOutputs;
}

const provider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        if (containsUnknown(news)) return { inputs: news };
        try {
            resolveMembershipSpec(specInputs(news));
            return { inputs: news };
        } catch (err) {
            if (!(err instanceof RuntimeInputError)) throw err;
            return { inputs: news, failures: [{ property: err.field, reason: err.message }] };
        }
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
        const inPlace = (Object.keys(after) as (keyof MembershipSpec)[]).filter(
            (f) => !(REPLACE_FIELDS as readonly string[]).includes(f) && JSON.stringify(before[f]) !== JSON.stringify(after[f]),
        );
        const missing = attachTargets(before, after, (olds.attachedTo as string[] | undefined) ?? []).length > 0;
        return {
            changes: replaces.length > 0 || inPlace.length > 0 || missing,
            replaces,
            // The same server name cannot be in one backend twice: remove the old one first.
            deleteBeforeReplace: before.server === after.server && before.backend === after.backend,
        };
    },

    async create(inputs) {
        const spec = resolveMembershipSpec(specInputs(inputs));
        await attach(spec, spec.loadBalancers);
        return { id: `${spec.backend}/${spec.server}`, outs: outputs(spec, spec.loadBalancers.map((lb) => lb.name)) };
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
        const after = resolveMembershipSpec(specInputs(news));
        const attachedTo = (olds.attachedTo as string[] | undefined) ?? [];
        const removed = before.loadBalancers.filter((lb) => !after.loadBalancers.some((n) => n.name === lb.name));
        await detach({ ...before, loadBalancers: removed }, removed);
        const missing = attachTargets(before, after, attachedTo);
        const kept = after.loadBalancers.filter((lb) => !missing.includes(lb));
        if (before.weight !== after.weight) {
            await onEach("setting weight", kept, (lb) => clientFor(lb, after).setWeight(after.backend, after.server, after.weight));
        }
        await attach(after, missing);
        return { outs: outputs(after, after.loadBalancers.map((lb) => lb.name)) };
    },

    async delete(_id, props) {
        const spec = specOf(props);
        await detach(spec, spec.loadBalancers);
    },
};

/**
 * The load balancers an update must attach to: those the server is not on, and those whose HAProxy
 * process changed since (a restarted HAProxy lost the servers added at run time).
 */
function attachTargets(before: MembershipSpec, after: MembershipSpec, attachedTo: string[]): LoadBalancerRef[] {
    const instanceBefore = new Map(before.loadBalancers.map((lb) => [lb.name, lb.instance]));
    return after.loadBalancers.filter((lb) => !attachedTo.includes(lb.name) || instanceBefore.get(lb.name) !== lb.instance);
}

/** The spec fields of raw inputs or outputs (without the engine's `__provider` or `attachedTo`). */
function specInputs(values: Record<string, unknown>): Record<string, unknown> {
    const { attachedTo: _attached, __provider: _provider, ...inputs } = values;
    return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined));
}

export default provider;
