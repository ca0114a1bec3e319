/**
 * Benchmarks 2 and 3, side by side with the peer operators use for this runbook: Ansible's
 * `community.general.haproxy` module (Debian's ansible 7.7), driven by `ansible-playbook`, in the same
 * run as the project's Membership (attach/detach), on the same real HAProxy processes (the test harness,
 * production-shaped: master-worker, servers file, server-side connection reuse) and the same traffic.
 *
 * - drain: one long request in flight on the server being drained (through lb1 of 2 load balancers);
 *   measured from the client getting the last byte of that session to the tool declaring the drain done
 *   (ours: server removed from both load balancers; the module: its task ended on both hosts, the server
 *   in MAINT), with and without the module's `wait`. The session lengths step over one 5 s poll interval
 *   of the module (its `wait_interval` default), so the session ends at every phase of its polling.
 * - cycle: drain then re-enable 20 servers on 2 load balancers under traffic (short requests, and 3 s
 *   requests twice a second), two other servers serving throughout. The module cannot add or remove
 *   servers, so each tool does what it can: ours drains and removes, then adds back until UP; the module
 *   drains to MAINT, then enables.
 *
 * The module runs with its defaults except the parameters compared (`state`, `drain`, `wait`; `host`,
 * `backend` and `socket` say which server), one playbook per operation on an inventory of one host per
 * load balancer. A run where a tool declared a drain done while a session was still in flight on that
 * server is a false success: counted by the tool's own timestamps and by what `show stat` showed
 * (StatWatch), never left out of the medians.
 */
import { get } from "node:http";
import { attach, detach } from "../../src/haproxy/membershipProvider";
import { resolveMembershipSpec, type LoadBalancerRef, type MembershipSpec } from "../../src/haproxy/membershipSpec";
import { RuntimeClient } from "../../src/haproxy/runtime/client";
import { startHaproxy, type RunningHaproxy } from "../../lab/haproxy";
import { startHttpServer, type TestHttpServer } from "../../lab/httpServer";
import { Traffic } from "../lib/traffic";
import { AnsiblePlaybooks, ensureAnsible, type Task } from "./ansiblePlaybook";
import { StatWatch } from "./statWatch";
import { median, type Figures } from "./stats";

const BACKEND = "app";
/** Health checks of every server in both benchmarks: HAProxy's check every 200 ms, UP after one pass. */
const CHECK = { enabled: true, inter: 200, rise: 1, fall: 2 };
/** The module's default `wait_interval`, in ms: the session lengths of the drain benchmark step over it. */
const MODULE_POLL_MS = 5000;

/** Two load balancers, the app server every benchmark server points at, the witness and the playbooks. */
interface Lab {
    haproxies: RunningHaproxy[];
    refs: LoadBalancerRef[];
    app: TestHttpServer;
    watch: StatWatch;
    playbooks: AnsiblePlaybooks;
    stop(): Promise<void>;
}

async function startLab(): Promise<Lab> {
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

function specOf(lab: Lab, server: string, drain: Record<string, unknown> = {}): MembershipSpec {
    return resolveMembershipSpec({ loadBalancers: lab.refs, backend: BACKEND, server, address: lab.app.host, port: lab.app.port, check: CHECK, drain });
}

/** Takes out a server the module left in MAINT (or anything left over): no quiet period, sessions shut at 10 s. */
async function cleanUp(lab: Lab, servers: string[]): Promise<void> {
    await Promise.all(servers.map((s) => detach(specOf(lab, s, { quietPeriodMs: 0, timeoutMs: 10_000, onTimeout: "force" }), lab.refs)));
}

/** The module's task on one server (`{{ item }}` in a loop) on every host; `wait` only when compared. */
function moduleTask(name: string, params: Record<string, unknown>, loop?: string[]): Task {
    return {
        name,
        "community.general.haproxy": { ...params, host: loop ? "{{ item }}" : params.host, backend: BACKEND, socket: "{{ haproxy_socket }}" },
        ...(loop ? { loop } : {}),
    };
}

/** GET through a load balancer; resolves when the whole answer has arrived (epoch ms), with its status. */
function session(url: string): Promise<{ endedAt: number; status: number }> {
    return new Promise((resolve, reject) => {
        get(url, { agent: false }, (res) => {
            res.resume();
            res.on("end", () => resolve({ endedAt: Date.now(), status: res.statusCode ?? 0 }));
        }).on("error", reject);
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const signed = (ms: number) => `${ms >= 0 ? "+" : ""}${(ms / 1000).toFixed(2)} s`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Ansible's own cost per playbook: `ansible-playbook` running one `debug` task (no module, no socket) on both hosts. */
async function ansibleStartup(lab: Lab, runs: number): Promise<number[]> {
    const samples: number[] = [];
    for (let r = 0; r < runs; r++) {
        const run = await lab.playbooks.run("no-op", [{ name: "no-op", "ansible.builtin.debug": { msg: "no-op" } }]);
        samples.push(run.exitedAt - run.startedAt);
    }
    return samples;
}

// ---------------------------------------------------------------------------------------------------
// Drain detection

/** How one tool drains one server: when it declared the drain done (net) and when its process/call returned (raw). */
interface DrainTool {
    key: string;
    label: string;
    drain(lab: Lab, server: string): Promise<{ declaredAt: number; returnedAt: number; sessionsZeroAt?: number }>;
    /** Removes what the tool left (the module leaves the server in MAINT). */
    leftover: boolean;
}

function ourDrain(key: string, label: string, drain: Record<string, unknown>): DrainTool {
    return {
        key,
        label,
        leftover: false,
        async drain(lab, server) {
            const results = await detach(specOf(lab, server, drain), lab.refs);
            const returnedAt = Date.now();
            return {
                declaredAt: Math.max(...results.map((x) => x.removedAt ?? returnedAt)),
                returnedAt,
                sessionsZeroAt: Math.max(...results.map((x) => x.sessionsZeroAt ?? returnedAt)),
            };
        },
    };
}

function moduleDrain(key: string, label: string, wait: boolean): DrainTool {
    return {
        key,
        label,
        leftover: true,
        async drain(lab, server) {
            const params = { state: "disabled", drain: true, host: server, ...(wait ? { wait: true } : {}) };
            const run = await lab.playbooks.run(`drain ${server}`, [moduleTask(`drain ${server}`, params)]);
            return { declaredAt: run.taskEndedAt, returnedAt: run.exitedAt };
        },
    };
}

const DRAIN_TOOLS: DrainTool[] = [
    ourDrain("ours", "ours, defaults (poll 250 ms, quiet period 2 s)", {}),
    ourDrain("ours-q0", "ours, quiet period 0", { quietPeriodMs: 0 }),
    moduleDrain("ansible-wait", "Ansible module, drain + wait", true),
    moduleDrain("ansible-nowait", "Ansible module, drain without wait", false),
];

interface DrainSample {
    sessionMs: number;
    /** From the end of the session to: the tool declaring the drain done (net), its process or call returning (raw). */
    declaredMs: number;
    returnedMs: number;
    /** To the server being gone from both load balancers, or in MAINT on lb1, as show stat showed it. */
    goneMs?: number;
    maintMs?: number;
    /** Ours: to the sessions being seen at zero (the start of the quiet period). */
    zeroMs?: number;
    /** The session was answered 200. */
    answered: boolean;
    /** show stat showed the server in MAINT with the session still on it. */
    maintWithSession: boolean;
}

export async function drainSideBySide(options: { runs?: number; baseSessionMs?: number } = {}): Promise<Figures> {
    const runs = options.runs ?? 7;
    const base = options.baseSessionMs ?? 4000;
    const lab = await startLab();
    const samples = new Map<string, DrainSample[]>(DRAIN_TOOLS.map((t) => [t.key, []]));
    const client = new RuntimeClient(lab.refs[0].endpoint);
    let startup: number[] = [];
    try {
        startup = await ansibleStartup(lab, 5);
        for (let r = 0; r < runs; r++) {
            const sessionMs = base + Math.round((r * MODULE_POLL_MS) / runs);
            for (const tool of DRAIN_TOOLS) {
                const server = `d${r}-${tool.key}`;
                await attach(specOf(lab, server), lab.refs);
                const answer = session(`${lab.haproxies[0].frontendUrl}/slow?ms=${sessionMs}`);
                await sleep(150);
                const inFlight = await client.getServer(BACKEND, server);
                if ((inFlight?.scur ?? 0) < 1) throw new Error(`drain ${tool.key} run ${r}: the long request is not on ${server} (${JSON.stringify(inFlight?.status)})`);
                const done = await tool.drain(lab, server);
                const ended = await answer;
                await sleep(100); // one more look by the witness
                const lb1 = lab.watch.of("lb1", server);
                const gone = lab.refs.map((lb) => lab.watch.of(lb.name, server).goneAt);
                samples.get(tool.key)!.push({
                    sessionMs,
                    declaredMs: done.declaredAt - ended.endedAt,
                    returnedMs: done.returnedAt - ended.endedAt,
                    ...(gone.every((g) => g !== undefined) ? { goneMs: Math.max(...(gone as number[])) - ended.endedAt } : {}),
                    ...(lb1.maintAt !== undefined ? { maintMs: lb1.maintAt - ended.endedAt } : {}),
                    ...(done.sessionsZeroAt !== undefined ? { zeroMs: done.sessionsZeroAt - ended.endedAt } : {}),
                    answered: ended.status === 200,
                    maintWithSession: lab.refs.some((lb) => lab.watch.of(lb.name, server).sessionsInMaint > 0),
                });
                if (tool.leftover) await cleanUp(lab, [server]);
                process.stdout.write(`  drain run ${r + 1}/${runs} ${tool.key}: session ${sessionMs} ms, declared ${signed(done.declaredAt - ended.endedAt)}\n`);
            }
        }
    } finally {
        await client.close();
        await lab.stop();
    }
    return drainFigures(samples, runs, startup);
}

function drainFigures(samples: Map<string, DrainSample[]>, runs: number, startup: number[]): Figures {
    const of = (key: string) => samples.get(key)!;
    const med = (key: string, pick: (s: DrainSample) => number | undefined) => {
        const values = of(key).map(pick).filter((v): v is number => v !== undefined);
        return values.length > 0 ? median(values) : NaN;
    };
    const falseSuccess = (key: string) => of(key).filter((s) => s.declaredMs < 0).length;
    const inMaint = (key: string) => of(key).filter((s) => s.maintWithSession).length;
    const answered = (key: string) => of(key).filter((s) => s.answered).length;
    const ours = med("ours", (s) => s.declaredMs);
    const oursQ0 = med("ours-q0", (s) => s.declaredMs);
    const wait = med("ansible-wait", (s) => s.declaredMs);
    const raw: Figures["raw"] = { ansibleStartupMs: startup };
    for (const [key, list] of samples) {
        raw[`${key}.declaredMs`] = list.map((s) => s.declaredMs);
        raw[`${key}.returnedMs`] = list.map((s) => s.returnedMs);
    }
    raw["ours.zeroMs"] = of("ours").map((s) => s.zeroMs ?? NaN);
    raw["ansible-wait.maintMs"] = of("ansible-wait").map((s) => s.maintMs ?? NaN);
    raw["ansible-nowait.maintMs"] = of("ansible-nowait").map((s) => s.maintMs ?? NaN);
    raw.sessionMs = of("ours").map((s) => s.sessionMs);
    const counts = (f: (key: string) => number) => DRAIN_TOOLS.map((t) => `${t.key} ${f(t.key)}/${runs}`).join(", ");
    return {
        title: `drain detection, side by side: one long request in flight on the server drained from 2 load balancers; from the session's end (median of ${runs}; + after, - before it ended)`,
        rows: [
            ["ours, defaults (poll 250 ms, quiet period 2 s): removed from both", signed(ours)],
            ["  of which sessions seen at zero", signed(med("ours", (s) => s.zeroMs))],
            ["ours, quiet period 0: removed from both", signed(oursQ0)],
            ["Ansible module, drain + wait: task done (net)", signed(wait)],
            ["  ansible-playbook exited (raw)", signed(med("ansible-wait", (s) => s.returnedMs))],
            ["  server in MAINT on lb1 (show stat)", signed(med("ansible-wait", (s) => s.maintMs))],
            ["Ansible module, drain without wait: task done (net)", signed(med("ansible-nowait", (s) => s.declaredMs))],
            ["  ansible-playbook exited (raw)", signed(med("ansible-nowait", (s) => s.returnedMs))],
            ["  server in MAINT on lb1 (show stat)", signed(med("ansible-nowait", (s) => s.maintMs))],
            ["ratio Ansible + wait / ours (defaults, quiet period 0)", `${(wait / ours).toFixed(1)} x, ${(wait / oursQ0).toFixed(1)} x`],
            ["false successes: drain declared done before the session ended", counts(falseSuccess)],
            ["show stat: server in MAINT with the session still on it", counts(inMaint)],
            ["long request answered 200", counts(answered)],
            [`Ansible start-up: ansible-playbook with one debug task (median of ${startup.length})`, seconds(median(startup))],
        ],
        raw,
    };
}

// ---------------------------------------------------------------------------------------------------
// A cycle over many servers

interface CycleTool {
    key: string;
    /** Drains the servers from both load balancers, then brings them back to serving. */
    drain(lab: Lab, servers: string[]): Promise<Phase>;
    enable(lab: Lab, servers: string[]): Promise<Phase>;
}

/** One phase of a cycle (epoch ms): the tool's own start and end (net), and its process's start and exit (raw). */
interface Phase {
    startedAt: number;
    endedAt: number;
    rawStartedAt: number;
    rawEndedAt: number;
}

const ourCycle: CycleTool = {
    key: "ours",
    async drain(lab, servers) {
        const startedAt = Date.now();
        await Promise.all(servers.map((s) => detach(specOf(lab, s), lab.refs)));
        const endedAt = Date.now();
        return { startedAt, endedAt, rawStartedAt: startedAt, rawEndedAt: endedAt };
    },
    async enable(lab, servers) {
        const startedAt = Date.now();
        await Promise.all(servers.map((s) => attach(specOf(lab, s), lab.refs)));
        const endedAt = Date.now();
        return { startedAt, endedAt, rawStartedAt: startedAt, rawEndedAt: endedAt };
    },
};

function moduleCycle(key: string, wait: boolean): CycleTool {
    const w = wait ? { wait: true } : {};
    const phase = async (lab: Lab, name: string, params: Record<string, unknown>, servers: string[]): Promise<Phase> => {
        const run = await lab.playbooks.run(name, [moduleTask(name, { ...params, ...w }, servers)]);
        return { startedAt: run.taskStartedAt, endedAt: run.taskEndedAt, rawStartedAt: run.startedAt, rawEndedAt: run.exitedAt };
    };
    return {
        key,
        drain: (lab, servers) => phase(lab, "drain", { state: "disabled", drain: true }, servers),
        enable: (lab, servers) => phase(lab, "enable", { state: "enabled" }, servers),
    };
}

const CYCLE_TOOLS: CycleTool[] = [ourCycle, moduleCycle("ansible-wait", true), moduleCycle("ansible-nowait", false)];

interface CycleSample {
    drainMs: number;
    enableMs: number;
    rawDrainMs: number;
    rawEnableMs: number;
    /** Sessions still on the drained servers when the tool declared the drain of all of them done. */
    sessionsAtDone: number;
    /** Servers show stat showed in MAINT with sessions on them. */
    maintWithSessions: number;
    requests: number;
    failed: number;
}

export async function cycleSideBySide(options: { runs?: number; servers?: number } = {}): Promise<Figures> {
    const runs = options.runs ?? 5;
    const count = options.servers ?? 20;
    const lab = await startLab();
    const stable = ["keep-0", "keep-1"];
    const samples = new Map<string, CycleSample[]>(CYCLE_TOOLS.map((t) => [t.key, []]));
    const clients = lab.refs.map((lb) => new RuntimeClient(lb.endpoint));
    let startup: number[] = [];
    try {
        startup = await ansibleStartup(lab, 5);
        await Promise.all(stable.map((s) => attach(specOf(lab, s), lab.refs)));
        for (let r = 0; r < runs; r++) {
            for (const tool of CYCLE_TOOLS) {
                const servers = Array.from({ length: count }, (_, i) => `c${r}-${tool.key}-${i}`);
                await Promise.all(servers.map((s) => attach(specOf(lab, s), lab.refs)));
                lab.watch.reset();
                const traffic = new Traffic({ urls: lab.haproxies.map((h) => h.frontendUrl), longRequestMs: 3000, longEveryMs: 500 });
                await sleep(1500); // long requests in flight on the servers about to be drained
                const drained = await tool.drain(lab, servers);
                const rows = (await Promise.all(clients.map((c) => c.showStat(BACKEND)))).flat();
                const sessionsAtDone = rows.filter((row) => servers.includes(row.svname)).reduce((n, row) => n + (row.scur ?? 0) + (row.qcur ?? 0), 0);
                const enabled = await tool.enable(lab, servers);
                const result = await traffic.stop();
                const maintWithSessions = lab.refs.reduce((n, lb) => n + servers.filter((s) => lab.watch.of(lb.name, s).sessionsInMaint > 0).length, 0);
                samples.get(tool.key)!.push({
                    drainMs: drained.endedAt - drained.startedAt,
                    enableMs: enabled.endedAt - enabled.startedAt,
                    rawDrainMs: drained.rawEndedAt - drained.rawStartedAt,
                    rawEnableMs: enabled.rawEndedAt - enabled.rawStartedAt,
                    sessionsAtDone,
                    maintWithSessions,
                    requests: result.total,
                    failed: result.failed.length,
                });
                await cleanUp(lab, servers);
                const s = samples.get(tool.key)!.at(-1)!;
                process.stdout.write(
                    `  cycle run ${r + 1}/${runs} ${tool.key}: drain ${seconds(s.drainMs)}, enable ${seconds(s.enableMs)}, ` +
                        `${sessionsAtDone} sessions at done, ${maintWithSessions} MAINT with sessions, ${s.failed}/${s.requests} failed\n`,
                );
            }
        }
        await cleanUp(lab, stable);
    } finally {
        await Promise.all(clients.map((c) => c.close()));
        await lab.stop();
    }
    return cycleFigures(samples, runs, count, startup);
}

function cycleFigures(samples: Map<string, CycleSample[]>, runs: number, count: number, startup: number[]): Figures {
    const of = (key: string) => samples.get(key)!;
    const med = (key: string, pick: (s: CycleSample) => number) => median(of(key).map(pick));
    const total = (s: CycleSample) => s.drainMs + s.enableMs;
    const rawTotal = (s: CycleSample) => s.rawDrainMs + s.rawEnableMs;
    const ours = med("ours", total);
    const row = (key: string, label: string): [string, string][] => [
        [`${label}: drain + enable, net`, `${seconds(med(key, total))} (drain ${seconds(med(key, (s) => s.drainMs))}, enable ${seconds(med(key, (s) => s.enableMs))})`],
        ...(key === "ours" ? [] : ([["  raw (two ansible-playbook processes)", seconds(med(key, rawTotal))], ["  ratio to ours, net / raw", `${(med(key, total) / ours).toFixed(1)} x / ${(med(key, rawTotal) / ours).toFixed(1)} x`]] as [string, string][])),
    ];
    const counts = (f: (s: CycleSample) => number) => CYCLE_TOOLS.map((t) => `${t.key} ${of(t.key).filter((s) => f(s) > 0).length}/${runs} (${of(t.key).reduce((n, s) => n + f(s), 0)})`).join(", ");
    const raw: Figures["raw"] = { ansibleStartupMs: startup };
    for (const [key, list] of samples) {
        raw[`${key}.drainMs`] = list.map((s) => s.drainMs);
        raw[`${key}.enableMs`] = list.map((s) => s.enableMs);
        raw[`${key}.rawDrainMs`] = list.map((s) => s.rawDrainMs);
        raw[`${key}.rawEnableMs`] = list.map((s) => s.rawEnableMs);
        raw[`${key}.failed`] = list.map((s) => s.failed);
    }
    return {
        title: `a cycle over many servers, side by side: drain then re-enable ${count} servers on 2 load balancers under traffic (median of ${runs})`,
        rows: [
            ...row("ours", "ours (remove, then add back until UP)"),
            ...row("ansible-wait", "Ansible module, drain + wait, enable + wait"),
            ...row("ansible-nowait", "Ansible module, without wait"),
            ["false successes: runs with sessions on servers declared drained (sessions)", counts((s) => s.sessionsAtDone)],
            ["show stat: runs with servers in MAINT with sessions on them (servers)", counts((s) => s.maintWithSessions)],
            ["failed requests: runs with any (requests)", counts((s) => s.failed)],
            [`Ansible start-up: ansible-playbook with one debug task (median of ${startup.length})`, seconds(median(startup))],
        ],
        raw,
    };
}
