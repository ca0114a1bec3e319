/**
 * Benchmark 4: preview cost. No-change `pulumi preview` time of a local stack of 25, 50 and 100 servers
 * (2 load balancers, checks every 2 s), to see how it grows, and the size of the generation's membership
 * state (one PoolMembership), serialized provider included.
 */
import { scratchProject } from "../../lab/scratchProject";
import { STEP_TYPES } from "../../src/names";
import { measure, median, seconds, type Figures } from "./stats";

export async function previewBenchmark(options: { sizes?: number[]; runs?: number } = {}): Promise<Figures> {
    const sizes = options.sizes ?? [25, 50, 100];
    const runs = options.runs ?? 5;
    const project = await scratchProject("bench-preview", sizes[0]);
    // HAProxy's usual 2 s check interval: the tests' 100 ms, on 100 servers x 2 load balancers, would
    // keep both cores busy answering health checks and measure that instead of the preview.
    await project.setConfig("healthCheck", { timeoutSeconds: 60, intervalMs: 2000, rise: 1, fall: 1 });
    const rows: [string, string][] = [];
    const raw: Record<string, number[] | number> = {};
    try {
        let perServer: number[] = [];
        for (const size of sizes) {
            await project.setConfig("pool", { size, namePrefix: "app", spec: { appRef: "v1.0.0" } });
            await project.stack.up();
            const samples: number[] = [];
            for (let r = 0; r < runs; r++) samples.push(await measure(() => project.stack.preview({ expectNoChanges: true })));
            raw[`preview${size}Ms`] = samples;
            rows.push([`no-change preview, ${size} servers (median of ${runs})`, seconds(median(samples))]);
            perServer = [...perServer, median(samples) / size];
        }
        rows.push(["preview time per server at each size", perServer.map((ms) => `${ms.toFixed(1)} ms`).join(", ")]);
        const state = await project.stack.exportStack();
        const memberships = (state.deployment.resources as { type: string }[]).filter((r) => STEP_TYPES.membership.includes(r.type));
        const bytes = memberships.map((m) => Buffer.byteLength(JSON.stringify(m)));
        raw.membershipStateBytes = bytes;
        const size = sizes[sizes.length - 1];
        rows.push([`state of the generation's membership, ${size} servers (JSON, provider included)`, `${median(bytes)} bytes, ${Math.round(median(bytes) / size)} bytes per server`]);
        return { title: "preview cost and state size, local target", rows, raw };
    } finally {
        await project.stack.destroy().catch(() => undefined);
        await project.dispose();
    }
}
