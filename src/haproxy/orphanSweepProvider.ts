/**
 * The OrphanSweep dynamic provider: servers that this stack owns (their line in the servers file says
 * so, ownership.ts) but that no resource of the stack claims. A `pulumi up` killed between HAProxy's
 * change and the engine's state write leaves such servers: the engine forgets the interrupted create,
 * the servers stay in the backend. The sweep finds them on every load balancer in `diff`, so `pulumi
 * preview` lists them, and drains and removes them in `create` and `update` like an old generation's.
 *
 * Claimed are the owners the program names (`claimed`: the memberships it registers and those of the
 * generations it remembers, which the engine deletes itself). Only lines of this stack whose owning
 * resource's name starts with `scope` (one deployment's memberships, `<name>-members-`) are looked at:
 * another deployment of the same stack on the same backend has its own sweep.
 */
import type * as pulumi from "@pulumi/pulumi";
import { configureForgotten, reachable } from "./forget";
import { checkWith } from "../provider/checkInputs";
import { accessTo } from "./loadBalancerAccess";
import { addressOfLine } from "./serversFile";
import { detach } from "./membershipSteps";
import { resolveMembershipSpec, type LoadBalancerRef, type MembershipSpec } from "./membershipSpec";
import { ownerOfLine, validateOwner, describeOwner } from "./ownership";
import { RuntimeInputError } from "./runtime/validate";
import { containsUnknown } from "../provider/previewValues";
import { progress } from "../provider/providerLog";

/** The sweep's settings as one spec (no server yet); throws RuntimeInputError naming the bad field. */
function baseSpec(inputs: Record<string, unknown>): MembershipSpec {
    const { stack, scope, claimed, removed: _removed, __provider: _p, ...rest } = inputs;
    validateOwner("stack", { stack, resource: "sweep" });
    validateOwner("scope", { stack, resource: scope });
    if (!Array.isArray(claimed)) throw new RuntimeInputError("claimed", claimed, "a list of resource names");
    claimed.forEach((c, i) => validateOwner(`claimed[${i}]`, { stack, resource: c }));
    return resolveMembershipSpec({ ...rest, server: "orphan", address: "192.0.2.1", port: 1, check: { enabled: false } });
}

/** This stack's servers in scope that no claimed resource owns, each with the load balancers that have its line. */
export async function findOrphans(inputs: Record<string, unknown>): Promise<{ spec: MembershipSpec; lbs: LoadBalancerRef[] }[]> {
    const base = baseSpec(inputs);
    const claimed = new Set(inputs.claimed as string[]);
    const found = new Map<string, { spec: MembershipSpec; lbs: LoadBalancerRef[] }>();
    for (const lb of reachable(base.loadBalancers)) {
        for (const [server, line] of await accessTo(lb, base).serverLines()) {
            const owner = ownerOfLine(line);
            const address = addressOfLine(line);
            if (!owner || owner.stack !== inputs.stack || !owner.resource.startsWith(inputs.scope as string) || claimed.has(owner.resource) || !address) continue;
            const entry = found.get(server) ?? { spec: { ...base, server, ...address, owner }, lbs: [] };
            entry.lbs.push(lb);
            found.set(server, entry);
        }
    }
    return [...found.values()];
}

/** Drains and removes every orphan; returns their names. */
async function sweep(inputs: Record<string, unknown>): Promise<string[]> {
    const orphans = await findOrphans(inputs);
    await Promise.all(orphans.map(({ spec, lbs }) => detach(spec, lbs)));
    return orphans.map(({ spec }) => spec.server);
}

function describe(orphans: { spec: MembershipSpec; lbs: LoadBalancerRef[] }[]): string {
    return orphans.map(({ spec, lbs }) => `${spec.backend}/${spec.server} on ${lbs.map((lb) => lb.name).join(", ")} (${describeOwner(spec.owner!)})`).join("; ");
}

const provider: pulumi.dynamic.ResourceProvider = {
    configure: configureForgotten,
    check: checkWith(baseSpec),

    async diff(_id, olds, news) {
        // Only orphans found, or another place to look, make a change: what is claimed changes with every
        // flip, and drain settings and credentials are used only when there is something to sweep (then
        // the update runs with today's).
        const where = (v: Record<string, unknown>) => JSON.stringify([v.stack, v.scope, v.backend, v.loadBalancers]);
        const changed = where(olds) !== where(news);
        if (containsUnknown(news)) return { changes: true };
        const orphans = await findOrphans(news);
        if (orphans.length > 0) progress(`servers of this stack that no resource claims, to be drained and removed: ${describe(orphans)}`);
        return { changes: changed || orphans.length > 0 };
    },

    async create(inputs) {
        baseSpec(inputs);
        return { id: `${inputs.backend}/orphans`, outs: { ...inputs, removed: await sweep(inputs) } };
    },

    async update(_id, _olds, news) {
        baseSpec(news);
        return { outs: { ...news, removed: await sweep(news) } };
    },
};

export default provider;
