/**
 * Benchmark 3, side by side with Ansible's `community.general.haproxy` module (ansibleLab.ts): drain
 * then re-enable 20 servers on 2 load balancers under traffic (short requests, and 3 s requests twice a
 * second), two other servers serving throughout. The module cannot add or remove servers, so each tool
 * does what it can: ours drains and removes, then adds back until UP; the module drains to MAINT, then
 * enables.
 */
import { attach, detachAll } from "../../src/haproxy/membershipSteps";
import { RuntimeClient } from "../../src/haproxy/runtime/client";
import { Traffic } from "../lib/traffic";
import { BACKEND, type Lab, startLab, specOf, cleanUp, moduleTask, sleep, ansibleStartup } from "./ansibleLab";
import { median, seconds, type Figures } from "./stats";

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
        await detachAll(servers.map((s) => specOf(lab, s)), lab.refs);
        const endedAt = Date.now();
        return { startedAt, endedAt, rawStartedAt: startedAt, rawEndedAt: endedAt };
    },
    async enable(lab, servers) {
        const startedAt = Date.now();
        await attach(servers.map((s) => specOf(lab, s)), lab.refs);
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
        await attach(stable.map((s) => specOf(lab, s)), lab.refs);
        for (let r = 0; r < runs; r++) {
            for (const tool of CYCLE_TOOLS) {
                const servers = Array.from({ length: count }, (_, i) => `c${r}-${tool.key}-${i}`);
                await attach(servers.map((s) => specOf(lab, s)), lab.refs);
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
