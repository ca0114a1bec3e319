/**
 * Benchmarks, on demand (not part of the test run): `npm run bench -- [flip|drain|cycle|scale|preview|blast|ansible ...]`.
 * Prints medians of at least 5 runs; BENCHMARKS.md records them with the machine and the date.
 * `drain` and `cycle` run side by side with Ansible's community.general.haproxy module (installed from
 * Debian by scripts/setup-ansible.sh when missing); `ansible` names both.
 */
import { formatFigures, type Figures } from "./bench/stats";
import { scaleBenchmark } from "./bench/scale";
import { cycleSideBySide } from "./bench/ansibleCycle";
import { drainSideBySide } from "./bench/ansibleDrain";
import { flipBenchmark } from "./bench/flip";
import { previewBenchmark } from "./bench/preview";
import { blastRadiusBenchmark } from "./bench/blastRadius";

const BENCHMARKS: Record<string, () => Promise<Figures>> = {
    flip: () => flipBenchmark(),
    drain: () => drainSideBySide(),
    cycle: () => cycleSideBySide(),
    scale: () => scaleBenchmark(),
    preview: () => previewBenchmark(),
    blast: () => blastRadiusBenchmark(),
};

/** Names that stand for several benchmarks. */
const GROUPS: Record<string, string[]> = { ansible: ["drain", "cycle"] };

async function main(): Promise<void> {
    const wanted = process.argv.slice(2).flatMap((w) => GROUPS[w] ?? [w]);
    const unknown = wanted.filter((w) => !(w in BENCHMARKS));
    if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}; choose from ${[...Object.keys(BENCHMARKS), ...Object.keys(GROUPS)].join(", ")}`);
    for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHMARKS)) {
        console.log(formatFigures(await BENCHMARKS[name]()));
    }
}

main().catch((err) => {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(1);
});
