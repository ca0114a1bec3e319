/**
 * Rollback (`npm run rollback -- [--stack local]`): flips the stack back to the generation it served
 * before, as recorded in its outputs. With `pool.standby` that generation is still running, so the flip
 * only re-attaches it and drains the current one. Prints the snapshot to restore if the migration must
 * be undone too. There is no `pulumi rollback`: this is the same as setting `generation` back and
 * running `pulumi up`.
 */
import { openStack } from "./lib/localStack";

async function main(): Promise<number> {
    const stack = await openStack(process.argv.slice(2));
    const outputs = await stack.outputs();
    const active = outputs.activeGeneration?.value as string | undefined;
    const previous = outputs.previousGeneration?.value as string | undefined;
    if (!active || !previous) {
        console.error(`rollback: stack ${stack.name} has no previous generation in its outputs (active: ${active ?? "none"}); nothing to roll back to`);
        return 1;
    }
    const standby = outputs.standbyGeneration?.value === previous;
    console.log(`== rolling ${stack.name} back: ${active} -> ${previous}${standby ? " (warm standby: re-attach, no new servers)" : " (new servers of that generation's spec)"}`);
    await stack.setConfig("generation", { value: previous });
    await stack.up({ onOutput: (line) => process.stdout.write(line) });
    const snapshotId = outputs.snapshotId?.value as string | undefined;
    const version = outputs.migrationVersion?.value as string | undefined;
    console.log(`\nRolled back to ${previous}. The database keeps migration ${version ?? "?"}.`);
    console.log("If that migration must be undone too (runbook step 1's snapshot):");
    console.log(`  local: npm run restore-snapshot -- ${snapshotId ?? "<snapshotId>"} --stack ${stack.name}`);
    console.log(`  aws:   create a volume from EBS snapshot ${snapshotId ?? "<snapshotId>"}, stop writers, swap it in on the database host,`);
    console.log("         then set database.migration back to the previous version in the stack config.");
    return 0;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(`rollback failed: ${(err as Error).message}`);
        process.exit(1);
    },
);
