/**
 * Benchmark 2, side by side with Ansible's `community.general.haproxy` module (Debian's ansible 7.7),
 * in the same run and on the same HAProxy processes and traffic (ansibleLab.ts): drain detection. One
 * long request is in flight on the server being drained (through lb1 of 2 load balancers); measured from
 * the client getting the last byte of that session to the tool declaring the drain done (ours: server
 * removed from both load balancers; the module: its task ended on both hosts, the server in MAINT), with
 * and without the module's `wait`. The session lengths step over one 5 s poll interval of the module
 * (its `wait_interval` default), so the session ends at every phase of its polling.
 */
import { DEFAULTS } from "../../src/defaults";
import { attach, detach } from "../../src/haproxy/membershipSteps";
import { RuntimeClient } from "../../src/haproxy/runtime/client";
import { BACKEND, MODULE_POLL_MS, type Lab, startLab, specOf, cleanUp, moduleTask, session, sleep, ansibleStartup } from "./ansibleLab";
import { median, seconds, signed, type Figures } from "./stats";

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

/** Our drain with the default settings, as the report names it. */
const OURS_DEFAULTS = `ours, defaults (poll ${DEFAULTS.membership.drain.pollIntervalMs} ms, quiet period ${DEFAULTS.membership.drain.quietPeriodMs / 1000} s)`;

const DRAIN_TOOLS: DrainTool[] = [
    ourDrain("ours", OURS_DEFAULTS, {}),
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
                await attach([specOf(lab, server)], lab.refs);
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
            [`${OURS_DEFAULTS}: removed from both`, signed(ours)],
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
