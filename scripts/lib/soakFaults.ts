/**
 * The soak's faults: one per flip, its kind, the moment of the flip it strikes at, and the load balancer
 * a reload hits. Kinds come as a seeded shuffle of all of them, repeated, so any run of at least as many
 * flips as there are kinds has each kind once or more; the moment and the load balancer are seeded picks
 * among those that make sense for the kind.
 */
import type { ReloadKind } from "../../src/targets/local/haproxyControl";
import type { SeededRandom } from "./soakRandom";

/** A reload of one load balancer (src/targets/local/haproxyControl.ts), or a SIGKILL of `pulumi up` and its session. */
export type FaultKind = ReloadKind | "kill-up";

export const FAULT_KINDS: readonly FaultKind[] = ["seamless", "master", "restart", "kill-up"];

/**
 * When in a flip the fault strikes (soakMoments.ts says how each is seen):
 *   attach-before-add    the new generation's membership is being created, no server added yet
 *   attach-before-check  a new server added (MAINT), its health check not yet passed
 *   attach-before-ready  its check passed, not yet made ready (still MAINT)
 *   smoke                the smoke check through every frontend is running
 *   drain                the old generation is draining
 *   detach               an old server left the drain (MAINT or removed) on the load balancer watched
 *   between-flips        before the flip's `pulumi up` starts (under the same traffic)
 */
export const MOMENTS = ["attach-before-add", "attach-before-check", "attach-before-ready", "smoke", "drain", "detach", "between-flips"] as const;
export type Moment = (typeof MOMENTS)[number];

export interface Fault {
    kind: FaultKind;
    moment: Moment;
    /** The load balancer reloaded, or watched for the moment of a `kill-up`. */
    lb: string;
}

/** The moments a kind can strike at: a killed `pulumi up` needs one running. */
export function momentsFor(kind: FaultKind): readonly Moment[] {
    return kind === "kill-up" ? MOMENTS.filter((m) => m !== "between-flips") : MOMENTS;
}

/**
 * The fault of each of `flips` flips, drawn from `random`, on one of `lbs`. Drawn flip by flip, so a
 * seed gives the same first faults whatever the number of flips.
 */
export function planFaults(random: SeededRandom, flips: number, lbs: readonly string[]): Fault[] {
    const faults: Fault[] = [];
    let kinds: FaultKind[] = [];
    while (faults.length < flips) {
        if (kinds.length === 0) kinds = random.shuffle(FAULT_KINDS);
        const kind = kinds.shift()!;
        faults.push({ kind, moment: random.pick(momentsFor(kind)), lb: random.pick(lbs) });
    }
    return faults;
}
