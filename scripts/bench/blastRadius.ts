/**
 * Benchmark 6: the blast radius of a bad release (one answer in five a 500, `APP_FAIL_FRACTION` 0.2),
 * with the default rollout (`haproxy.rollout: {}`) against a plain flip, over the same wall-clock window,
 * in one run on one stack.
 *
 * - Rollout: flip to the bad generation under traffic; the analysis rolls it back and `pulumi up`
 *   fails. The window is that `pulumi up`, from its start to its end. Also measured: from the bad
 *   generation's first answer to its weight being back at 0 on every load balancer.
 * - Plain flip: the same stack without `haproxy.rollout`, flipped to another bad generation (its health
 *   check passes: only its answers fail); the traffic runs on until the rollout's window has passed
 *   since the flip's `pulumi up` started, and failed requests are counted in that window.
 * - After each, the generation is set back to the good one (without traffic).
 * Runs alternate; medians and the ratio of the medians are printed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { scratchProject } from "../../lab/scratchProject";
import { flipUnderTraffic, type FlipRun } from "../lib/flip";
import { wentBackAt } from "../lib/rolloutSteps";
import { median, seconds, type Figures } from "./stats";

/** What one bad flip cost the clients. */
interface Radius {
    failed: number;
    requests: number;
    windowMs: number;
}

/** Failed and all requests that started in `[from, from + windowMs)`. */
function within(run: FlipRun, from: number, windowMs: number): Radius {
    const answers = run.traffic.answers.filter((a) => a.startedAt >= from && a.startedAt < from + windowMs);
    return { failed: answers.filter((a) => a.error !== undefined).length, requests: answers.length, windowMs };
}

export async function blastRadiusBenchmark(runs = 5): Promise<Figures> {
    const p = await scratchProject("blast");
    const bad = (g: string) => ({ appRef: `v-${g}-bad`, inputs: { APP_FAIL_FRACTION: "0.2" } });
    const labels = Array.from({ length: runs * 2 }, (_, i) => `b${i + 1}`);
    await p.setConfig("pool", { size: 2, namePrefix: "app", spec: { appRef: "v1.0.0" }, generations: Object.fromEntries(labels.map((g) => [g, bad(g)])) });
    const haproxy = JSON.parse((await p.stack.getAllConfig())["haproxy-bluegreen:haproxy"].value);
    const rollout: Radius[] = [];
    const plain: Radius[] = [];
    const backAfter: number[] = [];
    try {
        await p.stack.up();
        for (let r = 0; r < runs; r++) {
            await p.setConfig("haproxy", { ...haproxy, rollout: {} });
            const rolled = await flipUnderTraffic(p.stack, labels[2 * r]);
            if (!rolled.error) throw new Error(`the rollout of ${labels[2 * r]} (failing 20%) was not rolled back`);
            const windowMs = rolled.endedAt - rolled.startedAt;
            rollout.push(within(rolled, rolled.startedAt, windowMs));
            const firstBad = Math.min(...rolled.traffic.answers.filter((a) => a.generation === labels[2 * r]).map((a) => a.startedAt));
            backAfter.push((wentBackAt(rolled.rollout) ?? NaN) - firstBad);
            await p.stack.setConfig("generation", { value: "g1" });
            await p.stack.up();

            await p.setConfig("haproxy", haproxy);
            const flipped = await flipUnderTraffic(p.stack, labels[2 * r + 1], {
                up: async (stack, clock) => {
                    const startedAt = Date.now();
                    const result = await stack.up({ onEvent: clock.onEvent });
                    await sleep(Math.max(0, startedAt + windowMs - Date.now()));
                    return result;
                },
            });
            if (flipped.error) throw new Error(`the plain flip to ${labels[2 * r + 1]} failed: ${flipped.error.message.split("\n")[0]}`);
            plain.push(within(flipped, flipped.startedAt, windowMs));
            await p.stack.setConfig("generation", { value: "g1" });
            await p.stack.up();
            console.log(`  run ${r + 1}: rollout ${rollout[r].failed} failed of ${rollout[r].requests}, plain flip ${plain[r].failed} of ${plain[r].requests} in ${seconds(windowMs)}; back at weight 0 ${seconds(backAfter[r])} after the first bad answer`);
        }
    } finally {
        await p.stack.destroy().catch(() => undefined);
        await p.dispose();
    }
    const m = (xs: Radius[], f: (x: Radius) => number) => median(xs.map(f));
    const ratio = m(rollout, (x) => x.failed) / Math.max(1, m(plain, (x) => x.failed));
    return {
        title: `blast radius of a release failing 20% of answers: the default rollout against a plain flip, same window (median of ${runs})`,
        rows: [
            ["window: the rolled-back pulumi up", seconds(m(rollout, (x) => x.windowMs))],
            ["failed requests, default rollout", `${m(rollout, (x) => x.failed)} of ${m(rollout, (x) => x.requests)}`],
            ["failed requests, plain flip", `${m(plain, (x) => x.failed)} of ${m(plain, (x) => x.requests)}`],
            ["rollout / plain flip", `${(ratio * 100).toFixed(1)}%`],
            ["first bad answer -> its weight back at 0 everywhere", seconds(median(backAfter))],
        ],
        raw: { rolloutFailed: rollout.map((x) => x.failed), plainFailed: plain.map((x) => x.failed), windowMs: rollout.map((x) => x.windowMs), backAfterMs: backAfter },
    };
}
