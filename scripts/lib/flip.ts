/**
 * One flip under live traffic, through the Automation API: start traffic on the load balancers, set
 * `generation`, run `pulumi up` with phase timings, stop traffic, and read the final membership.
 * Used by the main job (scripts/main-job.ts), the end-to-end tests and the benchmarks.
 */
import type { Stack, UpResult } from "@pulumi/pulumi/automation";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DEFAULTS } from "../../src/defaults";
import { RuntimeClient } from "../../src/haproxy/runtime/client";
import { RuntimeConnectionError } from "../../src/haproxy/runtime/transport";
import { readTimings, TIMINGS_FILE_ENV } from "../../src/provider/timings";
import type { RolloutTiming } from "./rolloutSteps";
import { PhaseClock, type Span } from "./phases";
import { flipPicture } from "./flipPicture";
import { PROJECT_ROOT } from "./localStack";
import { formatReport, type FlipFacts } from "./report";
import { Traffic, type TrafficOptions } from "./traffic";

export interface LoadBalancerInfo {
    name: string;
    endpoint: string;
    frontendUrl: string;
}

/** The stack outputs a flip needs (exported by index.ts). */
export async function deployedState(stack: Stack): Promise<{ generation?: string; loadBalancers: LoadBalancerInfo[]; backend: string }> {
    const outputs = await stack.outputs();
    return {
        generation: outputs.activeGeneration?.value as string | undefined,
        loadBalancers: (outputs.loadBalancers?.value as LoadBalancerInfo[] | undefined) ?? [],
        backend: (outputs.backend?.value as string | undefined) ?? DEFAULTS.membership.backend,
    };
}

/** `g7` -> `g8`; any label ending in digits counts up, others get `2` appended. */
export function nextGeneration(label: string): string {
    const m = /^(.*?)(\d+)$/.exec(label);
    return m ? `${m[1]}${Number(m[2]) + 1}` : `${label}2`;
}

/** Servers and their status in `backend` on every load balancer; one that cannot be reached shows a single `unreachable` entry. */
export async function membershipOf(lbs: LoadBalancerInfo[], backend: string): Promise<FlipFacts["membership"]> {
    return Promise.all(
        lbs.map(async (lb) => {
            const client = new RuntimeClient(lb.endpoint);
            try {
                const rows = (await client.showStat(backend)).filter((r) => r.svname !== "BACKEND" && r.svname !== "FRONTEND");
                return { lb: lb.name, servers: rows.map((r) => ({ name: r.svname, status: r.status ?? "?" })) };
            } catch (err) {
                if (!(err instanceof RuntimeConnectionError)) throw err;
                return { lb: lb.name, servers: [{ name: "(load balancer)", status: "unreachable" }] };
            } finally {
                await client.close();
            }
        }),
    );
}

export interface FlipOptions {
    traffic?: Omit<TrafficOptions, "urls">;
    /** Names of the load balancers the traffic goes through. @default every one */
    trafficThrough?: string[];
    /** Traffic before the flip starts, in ms. @default 1500 */
    warmupMs?: number;
    /** Extra work while traffic runs and the flip is in progress (tests interrupt the update here). */
    up?: (stack: Stack, clock: PhaseClock) => Promise<UpResult>;
    onOutput?: (line: string) => void;
}

export interface FlipRun extends FlipFacts {
    /** The error of the flip's `pulumi up`, if it failed. */
    error?: Error;
    /** From the first runbook step's start to the last one's end (epoch ms), for the benchmarks. */
    steps?: Span;
    /** Seconds from the first new server's spawn to the last one accepting connections. */
    appStartSeconds: number;
    /** A rollout's weight changes and analysis windows, in order (none without a rollout). */
    rollout: RolloutTiming[];
}

/** Flips `stack` to generation `to` under traffic and returns the facts for the report. */
export async function flipUnderTraffic(stack: Stack, to: string, options: FlipOptions = {}): Promise<FlipRun> {
    const before = await deployedState(stack);
    if (!before.generation || before.loadBalancers.length === 0) {
        throw new Error(`stack ${stack.name} has no deployed generation to flip from: run pulumi up first`);
    }
    const through = before.loadBalancers.filter((lb) => options.trafficThrough?.includes(lb.name) ?? true);
    const traffic = new Traffic({ urls: through.map((lb) => lb.frontendUrl), ...options.traffic });
    await new Promise((r) => setTimeout(r, options.warmupMs ?? 1500));
    const clock = new PhaseClock();
    await stack.setConfig("generation", { value: to });
    // The membership provider records its drain timings in this file (inherited by the provider host).
    const timings = join(await mkdtemp(join(tmpdir(), "bluegreen-timings-")), "timings.jsonl");
    const env = stack.workspace.envVars;
    env[TIMINGS_FILE_ENV] = timings;
    const startedAt = Date.now();
    let error: Error | undefined;
    try {
        await (options.up ?? ((s, c) => s.up({ onEvent: c.onEvent, onOutput: options.onOutput })))(stack, clock);
    } catch (err) {
        error = err as Error;
    } finally {
        delete env[TIMINGS_FILE_ENV];
    }
    const endedAt = Date.now();
    clock.addTimingsFile(timings);
    const rollout = readTimings(timings).filter((t): t is RolloutTiming => t.kind === "rollout-window" || t.kind === "rollout-weights");
    await rm(dirname(timings), { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 500));
    const result = await traffic.stop();
    return {
        from: before.generation,
        to,
        traffic: result,
        startedAt,
        endedAt,
        drainStartedAt: clock.drainStartedAt,
        phases: clock.seconds(),
        phaseSpans: clock.bands(),
        steps: clock.stepsSpan,
        appStartSeconds: clock.appStartSeconds,
        rollout,
        membership: await membershipOf(before.loadBalancers, before.backend),
        ...(error ? { error } : {}),
    };
}

/** Where flip reports go: `reports` in the state folder of scripts/env.sh (`.bluegreen`, git-ignored). */
export function reportsDir(): string {
    return join(process.env.BLUEGREEN_STATE ?? join(PROJECT_ROOT, ".bluegreen"), "reports");
}

/**
 * Writes the flip's report and its picture into `dir` (created if needed) as `<prefix>-<from>-<to>.txt`
 * and `.svg`; returns their paths.
 */
export async function saveFlipReport(facts: FlipFacts, dir: string, prefix = "flip"): Promise<{ report: string; picture: string }> {
    const safe = (label: string) => label.replace(/[^A-Za-z0-9_.-]/g, "_");
    const base = join(dir, `${prefix}-${safe(facts.from)}-${safe(facts.to)}`);
    await mkdir(dir, { recursive: true });
    const picture = flipPicture({ ...facts, answers: facts.traffic.answers, phaseSpans: facts.phaseSpans ?? {} });
    await writeFile(`${base}.txt`, `${formatReport(facts)}\n`);
    await writeFile(`${base}.svg`, picture);
    return { report: `${base}.txt`, picture: `${base}.svg` };
}
