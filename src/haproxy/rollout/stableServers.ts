/**
 * The stable generation of a rollout, on one load balancer: the servers of the backend whose line in
 * the servers file records an owner of this stack (another resource than the new generation's, within
 * `replacesOwnersStartingWith` when set) and that serve: in HAProxy, not disabled, with a full weight
 * above 0. Servers of other owners, or of none, are never counted nor touched.
 *
 * Weights are set in the running process and written into the servers file, new and stable alike, so a
 * reload in the middle of a step keeps its share (stableLines.ts).
 */
import type { LoadBalancerAccess } from "../loadBalancerAccess";
import { backendStats } from "../runtime/backendStats";
import type { MembershipSpec } from "../membershipSpec";
import { ownerOfLine, sameOwner, type ServerOwner } from "../ownership";
import { fullWeightOfLine, isDisabledLine, lineAtWeight } from "./stableLines";

export interface StableServer {
    name: string;
    /** The weight it serves with outside the rollout. */
    fullWeight: number;
}

/** Whether `recorded` is one of the stable generation's owners for a rollout of `owner`'s servers. */
export function isStableOwner(recorded: ServerOwner | undefined, owner: ServerOwner, scope: string | undefined): boolean {
    return recorded !== undefined && recorded.stack === owner.stack && !sameOwner(recorded, owner) && (scope === undefined || recorded.resource.startsWith(scope));
}

/** The stable servers on the load balancer of `access`, sorted by name. */
export async function stableServersOn(access: LoadBalancerAccess, spec: MembershipSpec, scope: string | undefined): Promise<StableServer[]> {
    if (!spec.owner) return [];
    const owner = spec.owner;
    const [lines, rows] = await Promise.all([access.serverLines(), backendStats(access.client, spec.backend).rows()]);
    const present = new Set(rows.filter((r) => r.pxname === spec.backend && r.status !== "MAINT").map((r) => r.svname));
    return [...lines.entries()]
        .filter(([name, line]) => present.has(name) && isStableOwner(ownerOfLine(line), owner, scope) && !isDisabledLine(line) && fullWeightOfLine(line) > 0)
        .map(([name, line]) => ({ name, fullWeight: fullWeightOfLine(line) }))
        .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Gives each of `stable` its weight (`weightOf`), in the servers file first, then in the running process.
 * A line whose owner changed since it was found is left alone.
 */
export async function setStableWeights(access: LoadBalancerAccess, spec: MembershipSpec, scope: string | undefined, stable: StableServer[], weightOf: (s: StableServer) => number): Promise<void> {
    const owner = spec.owner as ServerOwner;
    await access.editServerLines((servers) => {
        for (const s of stable) {
            const line = servers.get(s.name);
            if (line === undefined || !isStableOwner(ownerOfLine(line), owner, scope)) continue;
            servers.set(s.name, lineAtWeight(line, weightOf(s)));
        }
    });
    await Promise.all(stable.map((s) => access.client.setWeight(spec.backend, s.name, weightOf(s))));
}

/** Gives each of the new generation's `specs` `weight`, in its line (as ready) and in the running process. */
export async function setCandidateWeights(access: LoadBalancerAccess, specs: MembershipSpec[], weight: number): Promise<void> {
    await Promise.all(specs.map((s) => access.record({ ...s, weight }, "ready")));
    await Promise.all(specs.map((s) => access.client.setWeight(s.backend, s.server, weight)));
}
