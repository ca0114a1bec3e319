/**
 * The PoolMembership dynamic provider: the membership provider (membershipProvider.ts) for all servers
 * of a generation as one resource. Its servers list changes in place: a server that leaves the list (or
 * comes back with another address) is drained and removed, a new one is attached; only a new backend
 * makes another resource. With `rollout`, its create shifts traffic in steps (rollout/rollout.ts); the
 * setting is read only then, so changing it later changes nothing attached.
 */
import { membershipProvider, serverPlaceholders, specInputs, type MembershipShape } from "./membershipProvider";
import { poolSpecOf, resolvePoolMembers } from "./membershipSpec";
import { resolveRollout } from "./rollout/rolloutSpec";
import { INSTANCE_MISSING, withoutInstance } from "./rollout/prometheusSettings";
import { RuntimeInputError } from "./runtime/validate";

const POOL: MembershipShape = {
    members: (inputs) => {
        const { rollout: _rollout, ...rest } = specInputs(inputs);
        return resolvePoolMembers(rest);
    },
    rollout(inputs, [member]) {
        if (inputs.rollout === undefined) return undefined;
        if (member.runtimeOnly) throw new RuntimeInputError("rollout", "(set)", "no rollout for a runtime-only membership: its step weights must be in the servers files");
        const rollout = resolveRollout("rollout", inputs.rollout);
        const [unnamed] = rollout.prometheus ? withoutInstance(rollout.prometheus.instances, member.loadBalancers.map((lb) => lb.name)) : [];
        if (unnamed !== undefined) throw new RuntimeInputError(`rollout.prometheus.instances.${unnamed}`, "(missing)", INSTANCE_MISSING);
        return rollout;
    },
    replaceFields: ["backend"],
    withPlaceholders(inputs) {
        const servers = inputs.servers;
        return Array.isArray(servers) ? { ...inputs, servers: servers.map((s) => (typeof s === "object" && s !== null ? serverPlaceholders(s as Record<string, unknown>) : s)) } : inputs;
    },
    id: (members) => `${members[0].backend}/${members[0].server}+${members.length - 1}`,
    outputs: (members, attachedTo) => ({ ...poolSpecOf(members), attachedTo }),
};

export default membershipProvider(POOL);
