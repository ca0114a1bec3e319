/**
 * Benchmark 1: flip overhead with the package as users get it, beside the engine's own floor, in one run.
 *
 * - The package is packed (compiled JavaScript) and installed into a copy of examples/local-blue-green-js
 *   outside the repository: no ts-node for the program or its dynamic providers.
 * - Floor: `pulumi up` of two programs without resources, from the same installation and engine: an
 *   empty file, and the program `pulumi new javascript` writes (`require("@pulumi/pulumi")`, which every
 *   Pulumi program loads). The goal is judged against the second.
 * - Flips: at each pool size (default 4 and 100 servers, on 2 load balancers), the stack is brought up,
 *   then flipped `runs` times under traffic with 2 s requests. Overhead = wall of the flipping
 *   `pulumi up` minus the waits no tool can avoid, measured from the engine's events and the providers'
 *   timings in the same run: the new servers' own start (spawn to accepting connections, over the pool),
 *   the health gate, the attach (HAProxy's check rise), the drain (the longest old session) and the
 *   drain's quiet period (`drain.quietPeriodMs`, 2 s by default).
 * - Where the rest goes: before the first runbook step (engine, program, dynamic-provider host), the
 *   steps' own work and the gaps between them, and after the last step (engine and Automation API).
 *
 * Each flip's report and picture go to `.bluegreen/reports/bench-flip-<servers>-<from>-<to>.txt` and `.svg`.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { DEFAULTS } from "../../src/defaults";
import { consumerStack, installExample, pack, type Consumer } from "../../lab/consumerProgram";
import { scratchBackend } from "../../lab/engine";
import { killProcessesUsing } from "../../lab/localProcesses";
import { freePort } from "../../lab/ports";
import { stateFolder } from "../../lab/stateFolder";
import { flipUnderTraffic, nextGeneration, reportsDir, saveFlipReport, type FlipRun } from "../lib/flip";
import { measure, median, seconds, type Figures } from "./stats";

/** The programs without resources whose `pulumi up` is the floor. */
const FLOOR_PROGRAMS = {
    /** An empty file. */
    empty: '"use strict";\n',
    /** What `pulumi new javascript` writes before any resource: the SDK loaded. */
    sdk: '"use strict";\nconst pulumi = require("@pulumi/pulumi");\n',
};

/** `pulumi up` of each floor program, alternating, `runs` times each, with the consumer's installation. */
async function floorUps(root: string, consumer: Consumer, runs: number): Promise<Record<keyof typeof FLOOR_PROGRAMS, number[]>> {
    const backend = scratchBackend();
    try {
        const stacks = await Promise.all(
            Object.entries(FLOOR_PROGRAMS).map(async ([name, source]) => {
                const dir = join(root, `floor-${name}`);
                mkdirSync(dir, { recursive: true });
                writeFileSync(join(dir, "Pulumi.yaml"), `name: floor-${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n`);
                writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `floor-${name}`, main: "index.js" }));
                writeFileSync(join(dir, "index.js"), source);
                symlinkSync(join(consumer.dir, "node_modules"), join(dir, "node_modules"), "dir");
                const stack = await LocalWorkspace.createStack({ stackName: "floor", workDir: dir }, { envVars: backend.env });
                await stack.up(); // the first up creates the stack's state
                return [name, stack] as const;
            }),
        );
        const samples = { empty: [] as number[], sdk: [] as number[] };
        for (let r = 0; r < runs; r++) {
            for (const [name, stack] of stacks) samples[name as keyof typeof FLOOR_PROGRAMS].push(await measure(() => stack.up()));
        }
        return samples;
    } finally {
        backend.dispose();
    }
}

/** One flip's wall time split into the unavoidable waits, the runbook steps' own time and the engine's. */
interface FlipCost {
    wall: number;
    inherent: number;
    overhead: number;
    /** From the start of `pulumi up` to the first runbook step. */
    beforeSteps: number;
    /** From the first runbook step to the last one's end, less the unavoidable waits. */
    steps: number;
    /** From the last runbook step's end to the end of `pulumi up`. */
    afterSteps: number;
}

function costOf(run: FlipRun): FlipCost {
    const wall = run.endedAt - run.startedAt;
    const quietMs = Math.min(1000 * (run.phases.detach ?? 0), DEFAULTS.membership.drain.quietPeriodMs);
    const inherent = 1000 * (run.appStartSeconds + (run.phases.gate ?? 0) + (run.phases.attach ?? 0) + (run.phases.drain ?? 0)) + quietMs;
    const steps = run.steps ?? { start: run.startedAt, end: run.startedAt };
    return {
        wall,
        inherent,
        overhead: wall - inherent,
        beforeSteps: steps.start - run.startedAt,
        steps: steps.end - steps.start - inherent,
        afterSteps: run.endedAt - steps.end,
    };
}

/**
 * @param options.runs flips per pool size (default 5)
 * @param options.sizes pool sizes (default 4 and 100 servers)
 * @param options.healthCheckIntervalMs the servers' check interval (default 1000 ms: 100 servers checked
 *   every 200 ms by 2 load balancers would keep both cores of this machine busy answering checks)
 *
 * The engine runs at most `--parallel` steps at once (default 4 x CPUs); `PULUMI_PARALLEL` in the
 * environment reaches the engine.
 */
export async function flipBenchmark(options: { runs?: number; sizes?: number[]; healthCheckIntervalMs?: number } = {}): Promise<Figures> {
    const runs = options.runs ?? 5;
    const sizes = options.sizes ?? [4, 100];
    const interval = options.healthCheckIntervalMs ?? 1000;
    const root = stateFolder("bluegreen-bench-flip-");
    try {
        const packed = await pack(root);
        const consumer = await installExample(root, "local-blue-green-js", packed.tarball);
        const floors = await floorUps(root, consumer, runs);
        const floor = median(floors.sdk);
        const rows: [string, string][] = [
            [`floor: pulumi up of an empty file (median of ${runs})`, seconds(median(floors.empty))],
            [`floor: pulumi up of require("@pulumi/pulumi") (median of ${runs})`, seconds(floor)],
        ];
        const raw: Figures["raw"] = { floorEmptyMs: floors.empty, floorSdkMs: floors.sdk };
        const overheadBySize = new Map<number, number>();
        for (const size of sizes) {
            const sizeRoot = join(root, `size-${size}`);
            mkdirSync(sizeRoot);
            // Each size has a backend (and passphrase) of its own: the previous size's stack file must go.
            rmSync(join(consumer.dir, "Pulumi.dev.yaml"), { force: true });
            const { stack, backend } = await consumerStack(consumer, sizeRoot);
            try {
                await stack.setAllConfig({
                    generation: { value: "g1" },
                    size: { value: String(size) },
                    healthCheckIntervalMs: { value: String(interval) },
                    frontendPorts: { value: JSON.stringify([await freePort(), await freePort()]) },
                });
                await stack.up();
                const costs: FlipCost[] = [];
                let generation = "g1";
                for (let r = 0; r < runs; r++) {
                    generation = nextGeneration(generation);
                    const run = await flipUnderTraffic(stack, generation, { traffic: { longRequestMs: 2000 }, warmupMs: 500 });
                    await saveFlipReport(run, reportsDir(), `bench-flip-${size}`);
                    if (run.error) throw run.error;
                    if (run.traffic.failed.length > 0) {
                        const detail = run.traffic.failed.slice(0, 5).map((f) => `${f.kind} ${f.url} at +${f.startedAt - run.startedAt} ms: ${f.error}`);
                        throw new Error(`flip to ${generation} (${size} servers): ${run.traffic.failed.length} requests failed:\n  ${detail.join("\n  ")}`);
                    }
                    costs.push(costOf(run));
                }
                const m = (key: keyof FlipCost) => median(costs.map((c) => c[key]));
                overheadBySize.set(size, m("overhead"));
                rows.push(
                    [`${size} servers: flipping pulumi up, wall (median of ${runs})`, seconds(m("wall"))],
                    [`${size} servers: unavoidable waits (app start, gate, attach, drain, quiet period)`, seconds(m("inherent"))],
                    [`${size} servers: overhead = wall - unavoidable waits`, `${seconds(m("overhead"))} (floor + ${seconds(m("overhead") - floor)})`],
                    [`${size} servers:   before the first step (engine, program, provider host)`, seconds(m("beforeSteps"))],
                    [`${size} servers:   the steps' own work and the gaps between them`, seconds(m("steps"))],
                    [`${size} servers:   after the last step (engine, Automation API)`, seconds(m("afterSteps"))],
                );
                for (const key of ["wall", "inherent", "overhead", "beforeSteps", "steps", "afterSteps"] as const) {
                    raw[`${key}${size}Ms`] = costs.map((c) => c[key]);
                }
                await stack.destroy();
            } finally {
                backend.dispose();
            }
        }
        if (sizes.length > 1) {
            const [small, large] = [sizes[0], sizes[sizes.length - 1]];
            rows.push([`overhead ratio ${large} / ${small} servers`, `${((overheadBySize.get(large) ?? 0) / (overheadBySize.get(small) ?? 1)).toFixed(2)} x`]);
        }
        return { title: `flip overhead, the compiled package beside the engine's floor (2 load balancers, 2 s long requests)`, rows, raw };
    } finally {
        killProcessesUsing(root);
        rmSync(root, { recursive: true, force: true });
    }
}
