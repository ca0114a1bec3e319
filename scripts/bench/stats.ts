/**
 * Small helpers for the benchmarks: timing, medians, and the printed table.
 */

/** A benchmark's printed result: a title, label/value rows, and the raw samples. */
export interface Figures {
    title: string;
    rows: [string, string][];
    raw: Record<string, number[] | number>;
}

/** Wall time of `task` in ms. */
export async function measure(task: () => Promise<unknown>): Promise<number> {
    const started = process.hrtime.bigint();
    await task();
    return Number(process.hrtime.bigint() - started) / 1e6;
}

/** `ms` as seconds with two decimals: `1234` -> `1.23 s`. */
export function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(2)} s`;
}

/** `seconds` with its sign: `+1.23 s`, `-0.40 s`. */
export function signed(ms: number): string {
    return `${ms >= 0 ? "+" : ""}${seconds(ms)}`;
}

export function median(samples: number[]): number {
    if (samples.length === 0) throw new Error("median of no samples");
    const sorted = [...samples].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function formatFigures(f: Figures): string {
    const width = Math.max(...f.rows.map(([label]) => label.length));
    const raw = Object.entries(f.raw)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.map((x) => Math.round(x)).join(",") : Math.round(v)}`)
        .join(" ");
    return [`## ${f.title}`, ...f.rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`), `  samples: ${raw}`].join("\n");
}
