/**
 * How the soak sees each moment of a flip (soakFaults.ts): a line of the `pulumi up` output, or the
 * state of the new or old generation's servers on one load balancer, asked over its admin socket every
 * `POLL_MS`. The attach's windows are short (a check every 100 ms): a poll that first sees a later state
 * (the check already passed, the server already UP) still reports the moment, marked late.
 */
import { RuntimeClient } from "../../src/haproxy/runtime/client";
import type { StatRow } from "../../src/haproxy/runtime/parsers";
import type { Moment } from "./soakFaults";

/** Time between two looks at the admin socket, in ms. */
const POLL_MS = 5;

/** A moment came (`late`: seen only after it, in the state that follows it). */
export interface Reached {
    late: boolean;
}

/** Where a moment shows: a line of the update's output, or the load balancer's state. */
export type MomentSignal = { output: RegExp } | { poll: (stopped: AbortSignal) => Promise<Reached | undefined> };

/** What the moments of one flip are seen on. */
export interface FlipWatch {
    /** The deployment's name, the prefix of its resources (`site`). */
    deployment: string;
    /** The generation the flip goes to (`g8`) and the one it leaves (`g7`). */
    to: string;
    from: string;
    /** Admin socket endpoint of the load balancer watched, its backend, and the servers' name prefix (`app`). */
    endpoint: string;
    backend: string;
    namePrefix: string;
}

/** How `moment` of the flip `w` is seen; `between-flips` has no signal: it is before the update. */
export function momentSignal(moment: Exclude<Moment, "between-flips">, w: FlipWatch): MomentSignal {
    const generation = (label: string) => (row: StatRow) => row.svname.startsWith(`${w.namePrefix}-${label}-`);
    const checked = (row: StatRow) => row.check_status === "L7OK" || row.check_status === "L4OK";
    const maint = (row: StatRow) => /^MAINT/.test(row.status ?? "");
    switch (moment) {
        case "attach-before-add":
            return { output: new RegExp(`${w.deployment}-members-${w.to}\\s+creating`) };
        case "smoke":
            return { output: new RegExp(`${w.deployment}-smoke-${w.to}\\s+creating`) };
        case "drain":
            return { output: /draining: no new sessions/ };
        case "attach-before-check":
            return pollRows(w, (rows) => {
                const added = rows.filter(generation(w.to));
                if (added.some((r) => maint(r) && !checked(r))) return { late: false };
                return added.length > 0 ? { late: true } : undefined;
            });
        case "attach-before-ready":
            return pollRows(w, (rows) => {
                const added = rows.filter(generation(w.to));
                if (added.some((r) => maint(r) && checked(r))) return { late: false };
                return added.some((r) => !maint(r)) ? { late: true } : undefined;
            });
        case "detach": {
            let serving: number | undefined;
            return pollRows(w, (rows) => {
                const old = rows.filter(generation(w.from));
                serving ??= old.length;
                return old.length < serving || old.some(maint) ? { late: false } : undefined;
            });
        }
    }
}

/** Polls the `backend` rows of the watched load balancer until `reached` says so, or `stopped` aborts. */
function pollRows(w: FlipWatch, reached: (rows: StatRow[]) => Reached | undefined): MomentSignal {
    return {
        async poll(stopped) {
            const client = new RuntimeClient(w.endpoint);
            try {
                while (!stopped.aborted) {
                    try {
                        const found = reached((await client.showStat(w.backend)).filter((r) => r.svname !== "BACKEND" && r.svname !== "FRONTEND"));
                        if (found) return found;
                    } catch {
                        // the load balancer reloads or restarts: look again
                    }
                    await new Promise((r) => setTimeout(r, POLL_MS));
                }
                return undefined;
            } finally {
                await client.close();
            }
        },
    };
}

/** The output of an update as it comes, and the first line matching a pattern. */
export class OutputLines {
    private text = "";
    private readonly waiting: { pattern: RegExp; resolve: () => void }[] = [];

    /** Takes the next chunk of output (for `stack.up({ onOutput })`). */
    readonly feed = (chunk: string): void => {
        this.text += chunk;
        for (const w of this.waiting.filter((x) => x.pattern.test(this.text))) {
            this.waiting.splice(this.waiting.indexOf(w), 1);
            w.resolve();
        }
    };

    /** Resolves once the output matches `pattern`, or `undefined` once `stopped` aborts. */
    seen(pattern: RegExp, stopped: AbortSignal): Promise<Reached | undefined> {
        if (pattern.test(this.text)) return Promise.resolve({ late: false });
        return new Promise((resolve) => {
            this.waiting.push({ pattern, resolve: () => resolve({ late: false }) });
            stopped.addEventListener("abort", () => resolve(undefined));
        });
    }
}
