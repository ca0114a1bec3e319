/**
 * What the end-to-end tests assert about a scratch stack's load balancers: which servers each one has,
 * asked of HAProxy itself, and that exactly one generation's two servers are UP on lb1 and lb2.
 */
import * as assert from "node:assert/strict";
import { deployedState, membershipOf } from "../../scripts/lib/flip";
import type { ScratchProject } from "../../lab/scratchProject";

/** `<server> <status>` per load balancer, sorted, from HAProxy itself. */
export async function membersByLb(p: ScratchProject): Promise<Record<string, string[]>> {
    const state = await deployedState(p.stack);
    const membership = await membershipOf(state.loadBalancers, state.backend);
    return Object.fromEntries(membership.map((m) => [m.lb, m.servers.map((s) => `${s.name} ${s.status}`).sort()]));
}

/** Asserts that lb1 and lb2 each have exactly `generation`'s two servers, UP. */
export function assertOnlyGeneration(members: Record<string, string[]>, generation: string): void {
    assert.deepEqual(Object.keys(members).sort(), ["lb1", "lb2"]);
    for (const [lb, servers] of Object.entries(members)) {
        assert.deepEqual(servers, [`app-${generation}-0 UP`, `app-${generation}-1 UP`], `${lb}: ${servers.join(", ")}`);
    }
}
