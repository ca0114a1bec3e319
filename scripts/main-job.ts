/**
 * The main job on the local target (`npm run deploy`, after setup): bring the local stack up (g1 the
 * first time), then flip it to the next generation under live traffic and print the report. The flip
 * also migrates the database to the newest SQL file of app/migrations when the stack is behind it (the
 * first flip: g2 needs 0002), so the report shows the snapshot and the migration too. The report and a
 * picture of the flip (scripts/lib/flipPicture.ts) are also written to
 * `.bluegreen/reports/flip-<from>-<to>.txt` and `.svg`. Running it again continues from where the stack
 * is: it flips to the following generation.
 *
 * With `--rollout` the flip is a progressive rollout (haproxy.rollout with the demo's short steps:
 * 10%, 50%, 100%, 10 s each, judged every 2 s); `--fail-fraction F` (0 to 1) makes the new generation's
 * app fail that fraction of its answers (its `APP_FAIL_FRACTION` input), so the rollout's analysis
 * rolls it back on its own. Both are written into the stack's (untracked) config file: the rollout stays
 * on for later flips; the fail fraction applies to this flip's generation only.
 *
 * Usage: npx ts-node scripts/main-job.ts [--stack local] [--rollout] [--fail-fraction F]
 */
import { deployedState, flipUnderTraffic, nextGeneration, reportsDir, saveFlipReport } from "./lib/flip";
import { openStack, PROJECT_ROOT } from "./lib/localStack";
import { dump, load } from "js-yaml";
import { join } from "node:path";
import { formatReport } from "./lib/report";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** The config namespace of this project's keys. */
const NAMESPACE = "haproxy-bluegreen";
import { DEMO_MIGRATIONS_DIR } from "../src/targets/local/target";
import { MIGRATION_FILE } from "../src/targets/local/migrations";

/** The highest version among migration file names, if any. */
function newestMigration(files: string[]): string | undefined {
    return files.flatMap((f) => MIGRATION_FILE.exec(f)?.[1] ?? []).sort((a, b) => Number(a) - Number(b)).pop();
}

/** The demo's rollout: short steps, so the whole of it takes about half a minute. */
const DEMO_ROLLOUT = {
    steps: [
        { percent: 10, bakeSeconds: 10 },
        { percent: 50, bakeSeconds: 10 },
        { percent: 100, bakeSeconds: 10 },
    ],
    analysis: { windowSeconds: 2, minRequests: 5, inconclusiveExtensionSeconds: 10 },
};

/** The value of `--fail-fraction`, checked: a number from 0 to 1. */
function failFraction(argv: string[]): number | undefined {
    const i = argv.indexOf("--fail-fraction");
    if (i < 0) return undefined;
    const value = Number(argv[i + 1]);
    if (!(value >= 0 && value <= 1)) throw new Error(`--fail-fraction: ${JSON.stringify(argv[i + 1])} is not a number from 0 to 1`);
    return value;
}

/** Writes the demo's switches into the stack's config file: the rollout, and the fail fraction of generation `to` (removed without one). */
function applyDemoSwitches(stackFile: string, to: string, rollout: boolean, fraction: number | undefined): void {
    const doc = load(readFileSync(stackFile, "utf8")) as { config: Record<string, Record<string, unknown>> };
    const haproxy = doc.config[`${NAMESPACE}:haproxy`];
    if (rollout) haproxy.rollout = DEMO_ROLLOUT;
    const pool = doc.config[`${NAMESPACE}:pool`] as { generations?: Record<string, { inputs?: Record<string, string> }> };
    const generation = ((pool.generations ??= {})[to] ??= {});
    const { APP_FAIL_FRACTION: _old, ...inputs } = generation.inputs ?? {};
    generation.inputs = fraction === undefined ? inputs : { ...inputs, APP_FAIL_FRACTION: String(fraction) };
    writeFileSync(stackFile, dump(doc));
}

/** The engine's diagnostics error of a failed `pulumi up` (from its `error:` line to the blank line after it), else its last lines. */
function engineError(message: string): string {
    const lines = message.split("\n");
    const start = lines.findIndex((l) => /^\s+error: /.test(l));
    if (start < 0) return lines.slice(-5).join("\n");
    const end = lines.findIndex((l, i) => i > start && l.trim() === "");
    return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    const fraction = failFraction(argv);
    const stack = await openStack(argv);
    const print = (line: string) => process.stdout.write(line);
    let state = await deployedState(stack);
    if (!state.generation) {
        const first = (await stack.getConfig("generation")).value;
        console.log(`== pulumi up: bringing up generation ${first}`);
        await stack.up({ onOutput: print });
        state = await deployedState(stack);
    }
    const from = state.generation!;
    const to = nextGeneration(from);
    const newest = newestMigration(readdirSync(DEMO_MIGRATIONS_DIR));
    const current = (await stack.getConfig("database.migration.version", true)).value;
    if (newest !== undefined && Number(newest) > Number(current)) {
        console.log(`== the flip migrates the database ${current} -> ${newest} (app/migrations)`);
        await stack.setConfig("database.migration.version", { value: newest }, true);
    }
    applyDemoSwitches(join(PROJECT_ROOT, `Pulumi.${stack.name}.yaml`), to, argv.includes("--rollout"), fraction);
    if (fraction !== undefined) console.log(`== ${to} fails ${fraction * 100}% of its answers (APP_FAIL_FRACTION)`);
    console.log(`== flipping ${from} -> ${to} under live traffic through ${state.loadBalancers.map((lb) => lb.name).join(", ")}`);
    const run = await flipUnderTraffic(stack, to, { onOutput: print });
    console.log("\n== report");
    console.log(formatReport(run));
    const saved = await saveFlipReport(run, reportsDir());
    console.log(`\nreport: ${saved.report}\npicture of the flip: ${saved.picture}`);
    if (run.error) {
        console.error(`\nthe flip failed: ${engineError(run.error.message)}`);
        return 1;
    }
    return run.traffic.failed.length === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(`main job failed: ${(err as Error).message}`);
        process.exit(1);
    },
);
