/**
 * Benchmark 1: flip overhead on the local target (4 servers, 2 load balancers). Each run flips to the
 * next generation under traffic with long requests; the overhead is the wall time of the flipping
 * `pulumi up` minus the waits no tool can avoid, measured in the same run: the new servers' health rise
 * (health gate and HAProxy's check rise at attach) and the longest session on the old servers (drain).
 * Also the no-change `pulumi up` time, for scale. Each flip's report and picture are written to
 * `.bluegreen/reports/bench-flip-<from>-<to>.txt` and `.svg`.
 */
import { flipUnderTraffic, nextGeneration, reportsDir, saveFlipReport } from "../lib/flip";
import { scratchProject } from "../../lab/scratchProject";
import { measure, median, type Figures } from "./stats";

export async function flipBenchmark(options: { runs?: number; servers?: number } = {}): Promise<Figures> {
    const runs = options.runs ?? 5;
    const project = await scratchProject("bench-flip", options.servers ?? 4);
    try {
        await project.stack.up();
        const walls: number[] = [];
        const inherent: number[] = [];
        const overheads: number[] = [];
        let generation = "g1";
        for (let r = 0; r < runs; r++) {
            generation = nextGeneration(generation);
            const run = await flipUnderTraffic(project.stack, generation, { traffic: { longRequestMs: 2000 }, warmupMs: 500 });
            await saveFlipReport(run, reportsDir(), "bench-flip");
            if (run.error) throw run.error;
            if (run.traffic.failed.length > 0) {
                const detail = run.traffic.failed.slice(0, 5).map((f) => `${f.kind} ${f.url} at +${f.startedAt - run.startedAt} ms: ${f.error}`);
                throw new Error(`flip to ${generation}: ${run.traffic.failed.length} requests failed:\n  ${detail.join("\n  ")}`);
            }
            const wall = run.endedAt - run.startedAt;
            const waits = 1000 * ((run.phases.gate ?? 0) + (run.phases.attach ?? 0) + (run.phases.drain ?? 0));
            walls.push(wall);
            inherent.push(waits);
            overheads.push(wall - waits);
        }
        const noChange: number[] = [];
        for (let r = 0; r < runs; r++) noChange.push(await measure(() => project.stack.up()));
        return {
            title: `flip overhead, local target (${options.servers ?? 4} servers, 2 load balancers, 2 s long requests)`,
            rows: [
                [`flipping pulumi up, wall (median of ${runs})`, `${(median(walls) / 1000).toFixed(2)} s`],
                ["inherent waits: health rise + longest old session", `${(median(inherent) / 1000).toFixed(2)} s`],
                ["overhead = wall - inherent", `${(median(overheads) / 1000).toFixed(2)} s`],
                [`no-change pulumi up (median of ${runs})`, `${(median(noChange) / 1000).toFixed(2)} s`],
            ],
            raw: { wallMs: walls, inherentMs: inherent, overheadMs: overheads, noChangeMs: noChange },
        };
    } finally {
        await project.stack.destroy().catch(() => undefined);
        await project.dispose();
    }
}
