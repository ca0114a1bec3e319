/**
 * The pre-flight of an attach, on every load balancer before any server is added anywhere: the
 * servers about to be added must say what the backend's own servers say. `add server` inherits
 * nothing from `default-server`, so a setting the plugin is not given is silently missing: a server
 * checked and used in plain text on a backend that speaks TLS to its servers, without the connection
 * limit of the others, or without a cookie while clients stick to their servers.
 *
 * What is compared, where the plugin can see it:
 * - the `default-server` line the operator keeps in the servers file: every setting it names must be
 *   the same in the server options;
 * - the other servers of the backend in the running process (`show stat`, `show servers state`): a
 *   setting that every one of them has (TLS, `maxconn`, `maxqueue`, an agent check) must not be missing
 *   from the options (a different value is allowed: a new generation may change it on purpose);
 * - the backend's cookie persistence (`show stat` prints the cookie name on the BACKEND row) and the
 *   `cookie` option must go together.
 */
import { RuntimeCommandError } from "./runtime/client";
import type { MembershipSpec } from "./membershipSpec";
import type { ServerStateRow, StatRow } from "./runtime/parsers";
import { disagreementsWithDefaultServer, parseDefaultServer, type ServerOptions } from "./serverOptions";
import type { LoadBalancerAccess } from "./loadBalancerAccess";

/** What the backend shows of itself: its server rows (the spec's own server left out) and the BACKEND row. */
export interface BackendView {
    defaultServerLines: string[];
    servers: { stat: StatRow; state?: ServerStateRow }[];
    backendRow?: StatRow;
}

/** Where `options` disagree with the backend; one line per problem, each naming the option. Pure. */
export function optionProblems(options: ServerOptions, view: BackendView): string[] {
    const problems = view.defaultServerLines.flatMap((line) =>
        disagreementsWithDefaultServer(options, parseDefaultServer(line).options).map((p) => `options.${p} (servers file)`),
    );
    const others = view.servers;
    const names = others.map((o) => o.stat.svname).join(", ");
    const everyOther = (has: (o: BackendView["servers"][number]) => boolean) => others.length > 0 && others.every(has);
    if (!options.ssl && everyOther((o) => o.state?.srv_use_ssl === 1)) {
        problems.push(`options.ssl: every other server (${names}) speaks TLS (srv_use_ssl 1); the server would be checked and used in plain text`);
    }
    if (options.maxconn === undefined && everyOther((o) => o.stat.slim !== undefined)) {
        problems.push(`options.maxconn: every other server (${names}) has a connection limit (slim ${others[0].stat.slim}); the server would have none`);
    }
    if (options.maxqueue === undefined && everyOther((o) => o.stat.qlimit !== undefined)) {
        problems.push(`options.maxqueue: every other server (${names}) has a queue limit (qlimit ${others[0].stat.qlimit}); the server would have none`);
    }
    if (options.agent === undefined && everyOther((o) => (o.state?.srv_agent_port ?? 0) > 0)) {
        problems.push(`options.agent: every other server (${names}) has an agent check; the server would have none`);
    }
    const cookieName = view.backendRow?.cookie;
    if (cookieName && !options.cookie) {
        problems.push(`options.cookie: the backend uses cookie persistence (cookie ${cookieName}); without a cookie the server's clients would not stick to it`);
    }
    if (!cookieName && options.cookie && view.backendRow) {
        problems.push("options.cookie: the backend has no cookie persistence (no `cookie` line in its settings)");
    }
    return problems;
}

/** Reads what one load balancer shows of the backend (a backend that does not exist shows nothing). */
export async function backendView(access: LoadBalancerAccess, spec: MembershipSpec): Promise<BackendView> {
    const { client } = access;
    await client.currentProcess();
    let stats: StatRow[];
    let states: ServerStateRow[];
    try {
        [stats, states] = await Promise.all([client.showStat(spec.backend), client.showServersState(spec.backend)]);
    } catch (err) {
        // The attach reports a missing backend with its own message.
        if (err instanceof RuntimeCommandError && err.code === "no-such-backend") return { defaultServerLines: [], servers: [] };
        throw err;
    }
    const defaultServerLines = await access.defaultServerLines();
    const servers = stats
        .filter((r) => r.pxname === spec.backend && r.svname !== "BACKEND" && r.svname !== "FRONTEND" && r.svname !== spec.server)
        .map((stat) => ({ stat, state: states.find((s) => s.srv_name === stat.svname) }));
    return { defaultServerLines, servers, backendRow: stats.find((r) => r.svname === "BACKEND") };
}

/** Raised when the server options disagree with the backend on a load balancer. */
export class ServerOptionsError extends Error {
    constructor(lb: string, spec: MembershipSpec, problems: string[]) {
        super(
            `${lb}: backend ${spec.backend}: the server ${spec.server} would not be what the backend's own servers are:\n    ` +
                problems.join("\n    ") +
                "\n  Set the server options (haproxy.serverOptions) to match, or change the backend (docs/OPERATING.md, server options).",
        );
        this.name = "ServerOptionsError";
    }
}

/** Fails with a ServerOptionsError naming every problem if the server's options disagree with the backend there. */
export async function checkOptionsAgree(access: LoadBalancerAccess, spec: MembershipSpec): Promise<void> {
    const problems = optionProblems(spec.options, await backendView(access, spec));
    if (problems.length > 0) throw new ServerOptionsError(access.lb.name, spec, problems);
}
