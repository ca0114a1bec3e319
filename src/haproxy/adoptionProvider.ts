/**
 * The Adoption dynamic provider: retires the operator's existing fleet (runbook steps 12-14 and 18 for
 * servers the plugin did not add). Loaded by the provider shim inside the dynamic-provider host.
 *
 * - create: on every load balancer, checks that each adopted server that is still there has its own
 *   line in the servers file (else it would come back at the next reload), before anything changes;
 *   then drains each one like an old generation's server (quiet period and timeout included) and
 *   removes it, from the running process and from the file.
 * - update: the same for servers added to the list; a changed load balancer list retires them there too.
 * - delete: nothing: the servers are gone.
 */
import type * as pulumi from "@pulumi/pulumi";
import { parseAddr } from "./runtime/client";
import { configureForgotten, reachable } from "./forget";
import { checkWith } from "../provider/checkInputs";
import { accessTo, serverNow } from "./loadBalancerAccess";
import { detach } from "./membershipSteps";
import { resolveMembershipSpec, type LoadBalancerRef, type MembershipSpec } from "./membershipSpec";
import { RuntimeInputError, validateName } from "./runtime/validate";
import { progress } from "../provider/providerLog";

/** The inputs: those of a membership without server, address, port, weight, check and options, plus the names. */
export interface AdoptionInputs {
    loadBalancers: LoadBalancerRef[];
    backend: string;
    /** Names of the operator's servers in the backend. */
    servers: string[];
    drain?: Partial<MembershipSpec["drain"]>;
    ssh?: MembershipSpec["ssh"];
}

/** A placeholder spec that validates everything but the per-server fields (filled from HAProxy later). */
function baseSpec(inputs: Record<string, unknown>, server = "adopted"): MembershipSpec {
    const { servers: _servers, retired: _retired, __provider: _p, ...rest } = inputs;
    return resolveMembershipSpec({ ...rest, server, address: "192.0.2.1", port: 1, check: { enabled: false }, adopted: true });
}

/** The adopted server names, validated. */
function serverNames(value: unknown): string[] {
    if (!Array.isArray(value) || value.length === 0) throw new RuntimeInputError("servers", value, "a non-empty list of server names");
    return value.map((name, i) => validateName(`servers[${i}]`, name));
}

/**
 * The spec of one adopted server as the load balancers have it (address and port from `show stat`), or
 * `undefined` if no load balancer has it any more. Fails if a load balancer has it without a line in its
 * servers file: removing it there would not survive a reload.
 */
async function adoptedSpec(base: MembershipSpec, server: string, lbs: LoadBalancerRef[]): Promise<MembershipSpec | undefined> {
    const spec = { ...base, server };
    let found: { address: string; port: number; weight: number } | undefined;
    for (const lb of lbs) {
        const access = accessTo(lb, spec);
        const { row } = await serverNow(access.client, spec.backend, server);
        if (!row?.addr) continue;
        if (!(await access.hasLine(server))) {
            throw new Error(
                `${lb.name}: ${spec.backend}/${server} is defined outside the servers file ${lb.serversFile} (in haproxy.cfg?): removed ` +
                    "only from the running HAProxy, it would come back at the next reload. Move the backend's section, with this " +
                    "server's line, into the servers file first (docs/OPERATING.md, adopting an existing fleet). Nothing was changed.",
            );
        }
        found ??= { ...parseAddr(row.addr), weight: row.weight ?? 1 };
    }
    return found && { ...spec, ...found };
}

/** Retires `servers` on `lbs`: all are checked first, then drained and removed in parallel. */
async function retire(inputs: Record<string, unknown>, servers: string[], lbs: LoadBalancerRef[]): Promise<void> {
    const base = baseSpec(inputs);
    const specs = [];
    for (const server of servers) {
        const spec = await adoptedSpec(base, server, lbs);
        if (spec) specs.push(spec);
        else progress(`${base.backend}/${server}: on no load balancer any more, nothing to retire`);
    }
    await Promise.all(specs.map((spec) => detach(spec, lbs)));
}

function validate(inputs: Record<string, unknown>): void {
    baseSpec(inputs);
    serverNames(inputs.servers);
}

const provider: pulumi.dynamic.ResourceProvider = {
    configure: configureForgotten,
    check: checkWith(validate),

    async diff(_id, olds, news) {
        const changed = (key: string) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]);
        return { changes: changed("servers") || changed("loadBalancers") || changed("backend") || changed("drain") };
    },

    async create(inputs) {
        validate(inputs);
        const servers = serverNames(inputs.servers);
        await retire(inputs, servers, reachable(baseSpec(inputs).loadBalancers));
        return { id: `${inputs.backend}/adopted`, outs: { ...inputs, retired: servers } };
    },

    async update(_id, olds, news) {
        validate(news);
        const lbs = reachable(baseSpec(news).loadBalancers);
        const before = new Set(Array.isArray(olds.retired) ? (olds.retired as string[]) : []);
        const oldLbs = new Set(((olds.loadBalancers ?? []) as LoadBalancerRef[]).map((lb) => lb.name));
        const servers = serverNames(news.servers);
        // Servers already retired everywhere are looked at again only on load balancers new to the list.
        const fresh = servers.filter((s) => !before.has(s));
        await retire(news, fresh, lbs);
        const newLbs = lbs.filter((lb) => !oldLbs.has(lb.name));
        if (newLbs.length > 0) await retire(news, servers.filter((s) => before.has(s)), newLbs);
        return { outs: { ...news, retired: servers } };
    },

    async read(id, props) {
        return { id, props, inputs: props };
    },
};

export default provider;
