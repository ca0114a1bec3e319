/**
 * The membership dynamic providers, loaded by the provider shim inside the dynamic-provider host. One
 * provider serves both resources: `Membership` (one server; this module's default export) and
 * `PoolMembership` (all servers of a generation; poolMembershipProvider.ts). A `MembershipShape` says
 * how a resource's inputs become per-server specs and what it stores.
 *
 * What HAProxy says wins over what the state remembers: `diff` asks every load balancer, so a plain
 * `pulumi up` notices a server lost by a reload or restart, left in DRAIN or MAINT (a rollback after a
 * drain timeout), or missing from the servers file, and `update` repairs it before anything is drained.
 *
 * - create: attach every server on every load balancer in parallel; on failure take them all back out.
 *   A PoolMembership with a `rollout` shifts traffic to them in steps instead (rollout/rollout.ts).
 * - update: drain from load balancers, and of servers, no longer listed; a server listed at another
 *   address is replaced by an interim server first (never a dip in capacity); then make every server
 *   serve on every listed load balancer.
 * - delete: check nothing blocks the removal, then drain every server on every load balancer at once, and detach,
 *   with today's drain settings and SSH credentials of the backend when this update registers a membership
 *   of it (todaysSettings.ts).
 * - read: which load balancers have the servers now.
 *
 * Load balancers named in the stack config key `haproxy-bluegreen:forgetLoadBalancers` (read by
 * `configure`) are gone for good: never contacted, by any membership, old generations' included.
 */
import type * as pulumi from "@pulumi/pulumi";
import { attach, attachedNow, describeServers, detachAll, serveOn, servingDrift } from "./membershipSteps";
import { accessTo } from "./loadBalancerAccess";
import { PINNED_FIELDS, REPLACE_FIELDS, resolveMembershipSpec, type MembershipSpec } from "./membershipSpec";
import { checkOptionsAgree, ServerOptionsError } from "./preflight";
import { RuntimeInputError } from "./runtime/validate";
import { containsUnknown } from "../provider/previewValues";
import { progress } from "../provider/providerLog";
import { configureForgotten, FORGET_CONFIG_KEY, isForgotten, reachable } from "./forget";
import { rollOut } from "./rollout/rollout";
import type { RolloutSpec } from "./rollout/rolloutSpec";
import { announceSettings, withSettingsOf, withTodaysSettings } from "./todaysSettings";

/** What a Membership stores: its spec plus where it is attached now. */
export interface MembershipOutputs extends MembershipSpec {
    /** Names of the load balancers that have the server, as last seen. */
    attachedTo: string[];
}

/** How one kind of membership resource maps its inputs to servers. */
export interface MembershipShape {
    /** The per-server specs of raw inputs or stored outputs, validated, defaults filled; throws RuntimeInputError. */
    members(inputs: Record<string, unknown>): MembershipSpec[];
    /** Inputs fields whose change makes another resource. */
    replaceFields: readonly string[];
    /** Inputs fields that, when a preview does not know them yet, `check` fills with placeholders. */
    withPlaceholders(inputs: Record<string, unknown>): Record<string, unknown>;
    /** The resource id. */
    id(members: MembershipSpec[]): string;
    /** What the resource stores. */
    outputs(members: MembershipSpec[], attachedTo: string[]): Record<string, unknown>;
    /** The progressive rollout its create runs instead of a plain attach (rollout/rollout.ts); throws RuntimeInputError. @default none */
    rollout?(inputs: Record<string, unknown>, members: MembershipSpec[]): RolloutSpec | undefined;
}

/** Placeholders for a new server's address and port during a preview (TEST-NET-1, port 1). */
export function serverPlaceholders(server: Record<string, unknown>): Record<string, unknown> {
    const placeholders: Record<string, unknown> = { address: "192.0.2.1", port: 1 };
    return Object.fromEntries(Object.entries(server).map(([k, v]) => [k, k in placeholders && containsUnknown(v) ? placeholders[k] : v]));
}

/** `Membership`: one server; memberships stored before servers files existed have none on their load balancers and are runtime-only. */
const SINGLE: MembershipShape = {
    members(inputs) {
        const lbs = Array.isArray(inputs.loadBalancers) ? (inputs.loadBalancers as Record<string, unknown>[]) : [];
        const legacy = inputs.runtimeOnly === undefined && inputs.attachedTo !== undefined && lbs.length > 0 && lbs.every((lb) => lb?.serversFile === undefined);
        return [resolveMembershipSpec(specInputs(legacy ? { ...inputs, runtimeOnly: true } : inputs))];
    },
    replaceFields: REPLACE_FIELDS,
    withPlaceholders: serverPlaceholders,
    id: ([spec]) => `${spec.backend}/${spec.server}`,
    outputs: ([spec], attachedTo) => ({ ...spec, attachedTo }) satisfies MembershipOutputs,
};

/** The dynamic provider of memberships of `shape`. */
export function membershipProvider(shape: MembershipShape): pulumi.dynamic.ResourceProvider {
    return {
        configure: configureForgotten,

        async check(olds, news) {
            const known = shape.withPlaceholders(specInputs(news));
            if (containsUnknown(known)) return { inputs: news };
            let members: MembershipSpec[];
            try {
                members = shape.members(known);
                shape.rollout?.(known, members);
            } catch (err) {
                if (!(err instanceof RuntimeInputError)) throw err;
                return { inputs: news, failures: [{ property: err.field, reason: err.message }] };
            }
            // Old generations of this backend being deleted in this update drain with these settings.
            announceSettings(members[0]);
            // A membership about to be created: its options pre-flight runs already in the preview (its
            // servers share their options, so the first one's are checked).
            if (Object.keys(olds).length > 0) return { inputs: news };
            const [spec] = members;
            const checks = await Promise.allSettled(reachable(spec.loadBalancers).map((lb) => checkOptionsAgree(accessTo(lb, spec), spec)));
            // Only disagreements fail the check; a load balancer that cannot be asked now is reported by the attach.
            const failures = checks.flatMap((c) => (c.status === "rejected" && c.reason instanceof ServerOptionsError ? [{ property: "options", reason: c.reason.message }] : []));
            return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
        },

        async diff(_id, olds, news) {
            const inputs = specInputs(news);
            if (containsUnknown(inputs)) {
                const replaces = shape.replaceFields.filter((f) => containsUnknown(inputs[f]) || JSON.stringify(inputs[f]) !== JSON.stringify(olds[f]));
                return { changes: true, replaces, deleteBeforeReplace: inputs.server === olds.server && inputs.backend === olds.backend };
            }
            const before = shape.members(olds);
            const after = shape.members(inputs);
            const fieldOf = (specs: MembershipSpec[], f: string) => JSON.stringify(specs[0][f as keyof MembershipSpec]);
            const replaces = shape.replaceFields.filter((f) => fieldOf(before, f) !== fieldOf(after, f));
            const pinned = PINNED_FIELDS.filter((f) => fieldOf(before, f) !== fieldOf(after, f));
            if (pinned.length > 0 && replaces.length === 0) {
                const [keeps, they] = after.length === 1 ? ["keeps", "it was"] : ["keep", "they were"];
                progress(`${describeServers(after)} ${keeps} the ${pinned.join(" and ")} ${they} attached with; the change applies to the next generation's servers`);
            }
            const inPlace = JSON.stringify(before.map(unpinned)) !== JSON.stringify(after.map(unpinned));
            const drift = replaces.length > 0 || inPlace ? [] : await servingDrift(after.map((s) => withPinned(s, before[0])));
            if (drift.length > 0) progress(`${describeServers(after)}: what HAProxy has differs from what should be, to repair:\n  ${drift.join("\n  ")}`);
            return {
                changes: replaces.length > 0 || inPlace || drift.length > 0,
                replaces,
                // The same server name cannot be in one backend twice: remove the old one first.
                deleteBeforeReplace: after.some((a) => before.some((b) => a.server === b.server && a.backend === b.backend)),
            };
        },

        async create(inputs) {
            const members = shape.members(specInputs(inputs));
            const lbs = reachable(members[0].loadBalancers);
            const rollout = shape.rollout?.(specInputs(inputs), members);
            if (rollout) await rollOut(members, lbs, rollout);
            else await attach(members, lbs);
            return { id: shape.id(members), outs: shape.outputs(members, lbs.map((lb) => lb.name)) };
        },

        async read(id, props) {
            const members = shape.members(props);
            const attachedTo = await attachedNow(members);
            // Gone everywhere: the resource no longer exists; the next `up` attaches it again.
            if (attachedTo.length === 0) return {};
            return { id, props: shape.outputs(members, attachedTo), inputs: specInputs(props) };
        },

        async update(_id, olds, news) {
            const listedNow = shape.members(specInputs(news));
            // Servers leaving drain with this update's own settings, not those they were attached with.
            const before = shape.members(olds).map((s) => withSettingsOf(s, listedNow[0]));
            const after = listedNow.map((s) => withPinned(s, before[0]));
            const listed = (lb: { name: string }) => after[0].loadBalancers.some((n) => n.name === lb.name);
            const removedLbs = reachable(before[0].loadBalancers).filter((lb) => !listed(lb));
            await detachAll(before.map((s) => ({ ...s, loadBalancers: removedLbs })), removedLbs);
            // Capacity never dips on the load balancers that stay. A server listed with another address or
            // port (one name is one server in a backend) is first replaced by an interim server of its own
            // name (interimName) at the new address; only once that is UP everywhere does the old one drain
            // and leave; then the listed name attaches at the new address and the interim server drains.
            // Then new servers attach (undone if they fail) before servers no longer listed drain; then
            // every listed server is made to serve (repair).
            const same = (a: MembershipSpec, b: MembershipSpec) => a.server === b.server && a.address === b.address && a.port === b.port;
            const keptLbs = reachable(before[0].loadBalancers).filter(listed);
            const leaving = before.filter((b) => !after.some((a) => same(a, b)));
            const [moved, dropped] = [leaving.filter((b) => after.some((a) => a.server === b.server)), leaving.filter((b) => !after.some((a) => a.server === b.server))];
            const onKept = (specs: MembershipSpec[]) => specs.map((s) => ({ ...s, loadBalancers: keptLbs }));
            const lbs = reachable(after[0].loadBalancers);
            const interim = after.filter((a) => moved.some((b) => b.server === a.server)).map((a) => ({ ...a, server: interimName(a.server) }));
            await attach(interim, lbs);
            await detachAll(onKept(moved), keptLbs);
            await attach(after.filter((a) => !before.some((b) => same(a, b))), lbs);
            await detachAll(interim, lbs);
            await detachAll(onKept(dropped), keptLbs);
            await serveOn(after, lbs);
            return { outs: shape.outputs(after, lbs.map((lb) => lb.name)) };
        },

        async delete(_id, props) {
            const members = shape.members(props).map(withTodaysSettings);
            const skipped = members[0].loadBalancers.filter((lb) => isForgotten(lb.name)).map((lb) => lb.name);
            if (skipped.length > 0) progress(`${describeServers(members)}: not contacting ${skipped.join(", ")} (${FORGET_CONFIG_KEY})`);
            await detachAll(members, reachable(members[0].loadBalancers));
        },
    };
}

/**
 * The name a moving server's replacement serves under while the server of the listed name still does:
 * `<name>.next`, within HAProxy's 63 characters.
 */
export function interimName(server: string): string {
    return `${server.slice(0, 58)}.next`;
}

/**
 * `spec` with the fields the server keeps from its attach (PINNED_FIELDS) taken from `attached`, and
 * its owner: the one recorded at create (an alias keeps it), or `spec`'s for state stored without one.
 */
function withPinned(spec: MembershipSpec, attached: MembershipSpec): MembershipSpec {
    const owner = attached.owner ?? spec.owner;
    return { ...spec, check: attached.check, options: attached.options, ...(owner ? { owner } : {}) };
}

/** `spec` without the fields the server keeps from its attach, nor its owner: what an in-place change compares. */
function unpinned(spec: MembershipSpec): Omit<MembershipSpec, (typeof PINNED_FIELDS)[number] | "owner"> {
    const { check: _check, options: _options, owner: _owner, ...rest } = spec;
    return rest;
}

/**
 * The spec fields of raw inputs or outputs: without the engine's `__provider`, `attachedTo`, and the
 * `instance` of load balancers that earlier versions stored (HAProxy is asked instead now).
 */
export function specInputs(values: Record<string, unknown>): Record<string, unknown> {
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

export default membershipProvider(SINGLE);
