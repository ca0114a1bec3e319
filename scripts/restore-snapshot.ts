/**
 * Rollback of a migration on the local target: restores a database snapshot into its volume.
 *
 *   source scripts/env.sh
 *   npx ts-node --transpile-only scripts/restore-snapshot.ts <snapshot-id|path> [--stack local] [--volume <dir>]
 *
 * The volume and the snapshots folder are read from the stack's state (`pulumi stack export`): any
 * LocalSnapshot resource of the stack names them, so an id resolves to `<snapshotsDir>/<id>` even for
 * snapshots the stack no longer tracks. With `--volume` and a snapshot path the state is not read.
 * Stop writers first; app servers keep running and see the restored database at their next read. Then
 * set the stack's config back to the version before the migration (there is no `pulumi rollback`).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { restoreSnapshot } from "../src/targets/local/volume";

/** The type token of LocalSnapshot resources in the state. */
const SNAPSHOT_TYPE = "pulumi-nodejs:dynamic/local:Snapshot";

interface Arguments {
    snapshot: string;
    stack: string;
    volume?: string;
}

const USAGE = "usage: restore-snapshot.ts <snapshot-id|path> [--stack local] [--volume <dir>]";

function parseArguments(argv: string[]): Arguments {
    const rest = [...argv];
    const args: Partial<Arguments> = { stack: "local" };
    while (rest.length > 0) {
        const word = rest.shift() as string;
        if (word === "--stack" || word === "--volume") {
            const value = rest.shift();
            if (value === undefined || value.startsWith("--")) throw new Error(`${word} needs a value\n${USAGE}`);
            args[word === "--stack" ? "stack" : "volume"] = value;
        } else if (word.startsWith("--") || args.snapshot !== undefined) {
            throw new Error(`unexpected argument ${JSON.stringify(word)}\n${USAGE}`);
        } else {
            args.snapshot = word;
        }
    }
    if (args.snapshot === undefined) throw new Error(USAGE);
    return args as Arguments;
}

/** The volume and snapshots folders recorded by the last LocalSnapshot resource in the stack's state. */
function foldersFromState(stack: string): { volumeDir: string; snapshotsDir: string } {
    let exported: string;
    try {
        exported = execFileSync("pulumi", ["stack", "export", "--stack", stack], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
        const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message;
        throw new Error(`cannot read the state of stack ${stack} (source scripts/env.sh first, run from the project folder): ${stderr.trim()}`);
    }
    const resources: { type: string; outputs?: Record<string, unknown> }[] = JSON.parse(exported).deployment?.resources ?? [];
    const snapshots = resources.filter((r) => r.type === SNAPSHOT_TYPE && r.outputs);
    const latest = snapshots[snapshots.length - 1]?.outputs;
    if (!latest || typeof latest.volumeDir !== "string" || typeof latest.snapshotsDir !== "string") {
        throw new Error(`stack ${stack} has no ${SNAPSHOT_TYPE} resource: give the snapshot's path and --volume <dir>`);
    }
    return { volumeDir: latest.volumeDir, snapshotsDir: latest.snapshotsDir };
}

/** Where the snapshot is and which volume it goes into, from the arguments and, if needed, the state. */
function locate(args: Arguments): { snapshotPath: string; volumeDir: string } {
    const isPath = args.snapshot.includes("/");
    if (isPath && args.volume !== undefined) return { snapshotPath: resolve(args.snapshot), volumeDir: resolve(args.volume) };
    const state = foldersFromState(args.stack);
    return {
        snapshotPath: isPath ? resolve(args.snapshot) : join(state.snapshotsDir, args.snapshot),
        volumeDir: args.volume !== undefined ? resolve(args.volume) : state.volumeDir,
    };
}

async function main(): Promise<void> {
    const { snapshotPath, volumeDir } = locate(parseArguments(process.argv.slice(2)));
    if (!existsSync(snapshotPath)) throw new Error(`snapshot ${snapshotPath} does not exist`);
    console.log(`restoring ${snapshotPath} into ${volumeDir}`);
    await restoreSnapshot(snapshotPath, volumeDir);
    console.log(`restored: ${volumeDir} now holds the database of snapshot ${snapshotPath}`);
}

main().catch((err: Error) => {
    console.error(`restore-snapshot: ${err.message}`);
    process.exitCode = 1;
});
