/**
 * Load balancers gone for good. A load balancer that died and will not come back cannot be drained or
 * detached from; listing its name in the stack config key `haproxy-bluegreen:forgetLoadBalancers`
 * (a list of names) makes every membership, those of old generations included, leave it alone, so the
 * next `pulumi up` converges without editing state by hand. The key is read by the dynamic provider
 * itself (`configure`), because the memberships of a generation being deleted only have their old state.
 */
import type { LoadBalancerRef } from "./membershipSpec";
import { RuntimeInputError, validateName } from "./runtime/validate";

/** The stack config key listing forgotten load balancers (fully qualified: valid in any project). */
export const FORGET_CONFIG_KEY = "haproxy-bluegreen:forgetLoadBalancers";

/**
 * The names in the config value (as the provider host receives it: a JSON text or a list).
 * @default no load balancer is forgotten
 */
export function parseForgottenLoadBalancers(value: unknown): Set<string> {
    if (value === undefined || value === null || value === "") return new Set();
    let list = value;
    if (typeof value === "string") {
        try {
            list = JSON.parse(value);
        } catch {
            throw new RuntimeInputError(FORGET_CONFIG_KEY, value, "a list of load balancer names, e.g. [lb3]");
        }
    }
    if (!Array.isArray(list)) throw new RuntimeInputError(FORGET_CONFIG_KEY, value, "a list of load balancer names, e.g. [lb3]");
    return new Set(list.map((name, i) => validateName(`${FORGET_CONFIG_KEY}[${i}]`, name)));
}

/** Load balancers gone for good, as the dynamic provider's `configure` last read them. */
let forgotten = new Set<string>();

/** Remembers the forgotten load balancers of the stack config (call it from a provider's `configure`). */
export function rememberForgotten(value: unknown): void {
    forgotten = parseForgottenLoadBalancers(value);
}

/** A provider's `configure` that remembers the forgotten load balancers of the stack config. */
export async function configureForgotten(req: { config: { get(key: string): string | undefined } }): Promise<void> {
    rememberForgotten(req.config.get(FORGET_CONFIG_KEY));
}

/** Whether a load balancer is forgotten. */
export function isForgotten(name: string): boolean {
    return forgotten.has(name);
}

/** The load balancers of `lbs` that are not forgotten. */
export function reachable<T extends Pick<LoadBalancerRef, "name">>(lbs: T[]): T[] {
    return lbs.filter((lb) => !forgotten.has(lb.name));
}
