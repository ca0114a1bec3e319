/**
 * The main job on the local target (`npm run deploy`, after setup): bring the local stack up (g1 the
 * first time), then flip it to the next generation under live traffic and print the report. The flip
 * also migrates the database to the newest SQL file of app/migrations when the stack is behind it (the
 * first flip: g2 needs 0002), so the report shows the snapshot and the migration too. The report and a
 * picture of the flip (scripts/lib/flipPicture.ts) are also written to
 * `.bluegreen/reports/flip-<from>-<to>.txt` and `.svg`. Running it again continues from where the stack
 * is: it flips to the following generation.
 *
 * Usage: npx ts-node scripts/main-job.ts [--stack local]
 */
import { deployedState, flipUnderTraffic, nextGeneration, reportsDir, saveFlipReport } from "./lib/flip";
import { openStack } from "./lib/localStack";
import { formatReport } from "./lib/report";
import { readdirSync } from "node:fs";
import { DEMO_MIGRATIONS_DIR } from "../src/targets/local/target";
import { MIGRATION_FILE } from "../src/targets/local/migrations";

/** The highest version among migration file names, if any. */
function newestMigration(files: string[]): string | undefined {
    return files.flatMap((f) => MIGRATION_FILE.exec(f)?.[1] ?? []).sort((a, b) => Number(a) - Number(b)).pop();
}

async function main(): Promise<number> {
    const stack = await openStack(process.argv.slice(2));
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
    console.log(`== flipping ${from} -> ${to} under live traffic through ${state.loadBalancers.map((lb) => lb.name).join(", ")}`);
    const run = await flipUnderTraffic(stack, to, { onOutput: print });
    console.log("\n== report");
    console.log(formatReport(run));
    const saved = await saveFlipReport(run, reportsDir());
    console.log(`\nreport: ${saved.report}\npicture of the flip: ${saved.picture}`);
    if (run.error) {
        console.error(`\nthe flip failed: ${run.error.message.split("\n").slice(-5).join("\n")}`);
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
