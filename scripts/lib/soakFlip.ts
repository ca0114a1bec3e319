/**
 * One flip of the soak: `flipUnderTraffic` with one fault at its moment. A reload hits its load
 * balancer while `pulumi up` runs (or before it starts, between flips); a `kill-up` SIGKILLs the `pulumi
 * up` CLI and its session (lab/interruptedUp.ts, which then runs `pulumi cancel`), and the next `pulumi up`,
 * run at once under the same traffic, must complete the flip.
 */
import { join } from "node:path";
import type { Stack, UpResult } from "@pulumi/pulumi/automation";
import { interruptedUp } from "../../lab/interruptedUp";
import type { ScratchProject } from "../../lab/scratchProject";
import { reloadLoadBalancer } from "../../src/targets/local/haproxyControl";
import { flipUnderTraffic, type FlipRun } from "./flip";
import type { Fault } from "./soakFaults";
import { momentSignal, OutputLines, type FlipWatch, type MomentSignal, type Reached } from "./soakMoments";
import type { PhaseClock } from "./phases";
import type { TrafficOptions } from "./traffic";

export interface FaultyFlip {
    run: FlipRun;
    /** Whether the fault struck, and whether its moment was seen only after it came. */
    reached?: Reached;
    /** The fault's own error (a reload that failed), if any. */
    faultError?: Error;
}

export interface FaultyFlipOptions {
    project: ScratchProject;
    /** What the moments are seen on (the fault's load balancer is the one watched). */
    watch: FlipWatch;
    /** The load balancers' folders are `<this>/<name>`. */
    lbFolder: string;
    traffic: Omit<TrafficOptions, "urls">;
    /** Traffic before the flip starts (and a between-flips fault strikes), in ms. */
    warmupMs: number;
}

/** Flips `o.project`'s stack to `o.watch.to` under traffic with `fault`. */
export async function faultyFlip(fault: Fault, o: FaultyFlipOptions): Promise<FaultyFlip> {
    const result: Omit<FaultyFlip, "run"> = {};
    const reload = () =>
        reloadLoadBalancer(join(o.lbFolder, fault.lb), fault.kind as Exclude<Fault["kind"], "kill-up">).then(
            () => undefined,
            (err: Error) => void (result.faultError = err),
        );
    const up = async (stack: Stack, clock: PhaseClock): Promise<UpResult> => {
        if (fault.moment === "between-flips") {
            await reload();
            result.reached = { late: false };
            return stack.up({ onEvent: clock.onEvent });
        }
        const signal = momentSignal(fault.moment, o.watch);
        const stopped = new AbortController();
        try {
            if (fault.kind === "kill-up") {
                const interrupted = await interruptedUp(o.project, stack, triggerOf(signal, stopped.signal, (r) => (result.reached = r)), (group) => process.kill(-group, "SIGKILL"));
                if ("output" in signal && interrupted.seen) result.reached = { late: false };
                stopped.abort();
                return await stack.up({ onEvent: clock.onEvent }); // completes the killed flip
            }
            const output = new OutputLines();
            const updating = stack.up({ onEvent: clock.onEvent, onOutput: output.feed });
            const struck = reachedOf(signal, output, stopped.signal).then(async (r) => {
                if (!r) return;
                result.reached = r;
                await reload();
            });
            try {
                return await updating;
            } finally {
                stopped.abort();
                await struck;
            }
        } finally {
            stopped.abort();
        }
    };
    const run = await flipUnderTraffic(o.project.stack, o.watch.to, { traffic: o.traffic, warmupMs: o.warmupMs, up });
    return { run, ...result };
}

/** When `signal` shows, from `output` or the load balancer; `undefined` once `stopped` aborts first. */
function reachedOf(signal: MomentSignal, output: OutputLines, stopped: AbortSignal): Promise<Reached | undefined> {
    return "output" in signal ? output.seen(signal.output, stopped) : signal.poll(stopped);
}

/** What `interruptedUp` waits for: the output pattern, or a promise that resolves only if the moment came (recorded by `record`). */
function triggerOf(signal: MomentSignal, stopped: AbortSignal, record: (r: Reached) => void): RegExp | Promise<void> {
    if ("output" in signal) return signal.output;
    return new Promise((resolve) => {
        void signal.poll(stopped).then((r) => {
            if (!r) return;
            record(r);
            resolve();
        });
    });
}
