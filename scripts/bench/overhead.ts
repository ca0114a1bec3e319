/**
 * Benchmark: flip overhead with the compiled package, beside the engine's own floor, in one run.
 *
 * - floor: `pulumi up` of an empty JavaScript program (no resources) on the same engine and backend kind;
 * - flips: the packed package installed into a copy of examples/local-blue-green-js outside the
 *   repository (compiled JavaScript: no ts-node for the program or its dynamic providers), brought up,
 *   then flipped `runs` times under traffic with 2 s requests, at each pool size (default 4 and 100
 *   servers, on 2 load balancers). Overhead = wall of the flipping `pulumi up` minus the waits no tool can
 *   avoid, measured from the engine's events in the same run: the health gate, the attach (HAProxy's
 *   check rise) and the drain (the longest old session and the quiet period).
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stateFolder } from "../../lab/stateFolder";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { consumerStack, installExample, pack } from "../../lab/consumerProgram";
import { PROJECT_ROOT, scratchBackend } from "../../lab/engine";
import { killProcessesUsing } from "../../lab/localProcesses";
import { freePort } from "../../lab/ports";
import { flipUnderTraffic, nextGeneration } from "../lib/flip";
import { measure, median, type Figures } from "./stats";

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** `pulumi up` of a program without resources, `runs` times, on its own file backend. */
async function floorUps(root: string, runs: number): Promise<number[]> {
    const dir = join(root, "empty");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "Pulumi.yaml"), "name: empty\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "empty", main: "index.js" }));
    writeFileSync(join(dir, "index.js"), '"use strict";\nmodule.exports = {};\n');
    // The program needs @pulumi/pulumi: the repository's, the same version the consumer programs pin.
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    const backend = scratchBackend();
    try {
        const stack = await LocalWorkspace.createStack({ stackName: "floor", workDir: dir }, { envVars: backend.env });
        await stack.up(); // the first up creates the stack's state
        const samples: number[] = [];
        for (let r = 0; r < runs; r++) samples.push(await measure(() => stack.up()));
        return samples;
    } finally {
        backend.dispose();
    }
}

export async function overheadBenchmark(options: { runs?: number; sizes?: number[] } = {}): Promise<Figures> {
    const runs = options.runs ?? 5;
    const sizes = options.sizes ?? [4, 100];
    const root = stateFolder("bluegreen-overhead-");
    try {
        const packed = await pack(root);
        const consumer = await installExample(root, "local-blue-green-js", packed.tarball);
        const floor = await floorUps(root, runs);
        const rows: [string, string][] = [[`empty program pulumi up: the engine's floor (median of ${runs})`, s(median(floor))]];
        const raw: Figures["raw"] = { floorMs: floor };
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
                    frontendPorts: { value: JSON.stringify([await freePort(), await freePort()]) },
                });
                await stack.up();
                const walls: number[] = [];
                const overheads: number[] = [];
                let generation = "g1";
                for (let r = 0; r < runs; r++) {
                    generation = nextGeneration(generation);
                    const run = await flipUnderTraffic(stack, generation, { traffic: { longRequestMs: 2000 }, warmupMs: 500 });
                    if (run.error) throw run.error;
                    if (run.traffic.failed.length > 0) throw new Error(`flip to ${generation} (${size} servers): ${run.traffic.failed.length} requests failed`);
                    const wall = run.endedAt - run.startedAt;
                    const inherent = 1000 * ((run.phases.gate ?? 0) + (run.phases.attach ?? 0) + (run.phases.drain ?? 0));
                    walls.push(wall);
                    overheads.push(wall - inherent);
                }
                overheadBySize.set(size, median(overheads));
                rows.push([`${size} servers: flipping pulumi up, wall (median of ${runs})`, s(median(walls))]);
                rows.push([`${size} servers: overhead = wall - inherent waits`, `${s(median(overheads))} (floor + ${s(median(overheads) - median(floor))})`]);
                raw[`wall${size}Ms`] = walls;
                raw[`overhead${size}Ms`] = overheads;
                await stack.destroy();
            } finally {
                backend.dispose();
            }
        }
        const [small, large] = [sizes[0], sizes[sizes.length - 1]];
        if (sizes.length > 1) {
            rows.push([`overhead ratio ${large} / ${small} servers`, `${((overheadBySize.get(large) ?? 0) / (overheadBySize.get(small) ?? 1)).toFixed(2)} x`]);
        }
        return { title: `flip overhead with the compiled package vs the engine's floor (2 load balancers, 2 s long requests)`, rows, raw };
    } finally {
        killProcessesUsing(root);
        rmSync(root, { recursive: true, force: true });
    }
}
