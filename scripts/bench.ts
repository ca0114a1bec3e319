/**
 * Benchmarks, on demand (not part of the test run): `npm run bench -- [scale|drain|flip|preview ...]`.
 * Prints medians of at least 5 runs; BENCHMARKS.md records them with the machine and the date.
 */
import { formatFigures, type Figures } from "./bench/stats";
import { scaleBenchmark } from "./bench/scale";
import { drainBenchmark } from "./bench/drain";
import { flipBenchmark } from "./bench/flip";
import { previewBenchmark } from "./bench/preview";

const BENCHMARKS: Record<string, () => Promise<Figures>> = {
    flip: () => flipBenchmark(),
    drain: () => drainBenchmark(),
    scale: () => scaleBenchmark(),
    preview: () => previewBenchmark(),
};

async function main(): Promise<void> {
    const wanted = process.argv.slice(2);
    const unknown = wanted.filter((w) => !(w in BENCHMARKS));
    if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(BENCHMARKS).join(", ")}`);
    for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHMARKS)) {
        console.log(formatFigures(await BENCHMARKS[name]()));
    }
}

main().catch((err) => {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(1);
});
