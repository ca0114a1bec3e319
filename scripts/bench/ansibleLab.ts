/**
 * What the side-by-side benchmarks with Ansible's `community.general.haproxy` module share
 * (ansibleDrain.ts, ansibleCycle.ts): two real HAProxy processes (the test harness, production-shaped:
 * master-worker, servers file, server-side connection reuse), the app server every benchmark server
 * points at, the `show stat` witness and the playbooks; the module's task, and Ansible's own start-up.
 *
 * The module runs with its defaults except the parameters compared (`state`, `drain`, `wait`; `host`,
 * `backend` and `socket` say which server), one playbook per operation on an inventory of one host per
 * load balancer. A run where a tool declared a drain done while a session was still in flight on that
 * server is a false success: counted by the tool's own timestamps and by what `show stat` showed
 * (StatWatch), never left out of the medians.
 */
import { get } from "node:http";
import { detachAll } from "../../src/haproxy/membershipSteps";
import { resolveMembershipSpec, type LoadBalancerRef, type MembershipSpec } from "../../src/haproxy/membershipSpec";
import { startHaproxy, type RunningHaproxy } from "../../lab/haproxy";
import { startHttpServer, type TestHttpServer } from "../../lab/httpServer";
import { AnsiblePlaybooks, ensureAnsible, type Task } from "./ansiblePlaybook";
import { StatWatch } from "./statWatch";

export const BACKEND = "app";
/** Health checks of every server in both benchmarks: HAProxy's check every 200 ms, UP after one pass. */
export const CHECK = { enabled: true, inter: 200, rise: 1, fall: 2 };
/** The module's default `wait_interval`, in ms: the session lengths of the drain benchmark step over it. */
export const MODULE_POLL_MS = 5000;

/** Two load balancers, the app server every benchmark server points at, the witness and the playbooks. */
export interface Lab {
    haproxies: RunningHaproxy[];
    refs: LoadBalancerRef[];
    app: TestHttpServer;
    watch: StatWatch;
    playbooks: AnsiblePlaybooks;
    stop(): Promise<void>;
}

export async function startLab(): Promise<Lab> {
    ensureAnsible();
    const haproxies = await Promise.all([startHaproxy(), startHaproxy()]);
    const app = await startHttpServer("bench");
    const refs = haproxies.map((h, i) => ({ name: `lb${i + 1}`, endpoint: h.unixAdmin, serversFile: h.serversFile, backendDefaults: h.backendDefaults }));
    const playbooks = await AnsiblePlaybooks.create(Object.fromEntries(haproxies.map((h, i) => [`lb${i + 1}`, { haproxy_socket: h.adminSocket }])));
    const watch = new StatWatch(refs, BACKEND);
    return {
        haproxies,
        refs,
        app,
        watch,
        playbooks,
        async stop() {
            await watch.stop().finally(async () => {
                await Promise.all(haproxies.map((h) => h.stop()));
                await app.stop();
                await playbooks.dispose();
            });
        },
    };
}

export function specOf(lab: Lab, server: string, drain: Record<string, unknown> = {}): MembershipSpec {
    return resolveMembershipSpec({ loadBalancers: lab.refs, backend: BACKEND, server, address: lab.app.host, port: lab.app.port, check: CHECK, drain });
}

/** Takes out a server the module left in MAINT (or anything left over): no quiet period, sessions shut at 10 s. */
export async function cleanUp(lab: Lab, servers: string[]): Promise<void> {
    await detachAll(servers.map((s) => specOf(lab, s, { quietPeriodMs: 0, timeoutMs: 10_000, onTimeout: "force" })), lab.refs);
}

/** The module's task on one server (`{{ item }}` in a loop) on every host; `wait` only when compared. */
export function moduleTask(name: string, params: Record<string, unknown>, loop?: string[]): Task {
    return {
        name,
        "community.general.haproxy": { ...params, host: loop ? "{{ item }}" : params.host, backend: BACKEND, socket: "{{ haproxy_socket }}" },
        ...(loop ? { loop } : {}),
    };
}

/** GET through a load balancer; resolves when the whole answer has arrived (epoch ms), with its status. */
export function session(url: string): Promise<{ endedAt: number; status: number }> {
    return new Promise((resolve, reject) => {
        get(url, { agent: false }, (res) => {
            res.resume();
            res.on("end", () => resolve({ endedAt: Date.now(), status: res.statusCode ?? 0 }));
        }).on("error", reject);
    });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ansible's own cost per playbook: `ansible-playbook` running one `debug` task (no module, no socket) on both hosts. */
export async function ansibleStartup(lab: Lab, runs: number): Promise<number[]> {
    const samples: number[] = [];
    for (let r = 0; r < runs; r++) {
        const run = await lab.playbooks.run("no-op", [{ name: "no-op", "ansible.builtin.debug": { msg: "no-op" } }]);
        samples.push(run.exitedAt - run.startedAt);
    }
    return samples;
}
