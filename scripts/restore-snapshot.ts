/**
 * Rollback of a migration on the local target: restores a database snapshot (a `pg_dump` archive) as
 * the stack's database (src/targets/local/dumps.ts: into a fresh database, then swapped in; the replaced
 * one is kept as `<db>_replaced_<timestamp>`).
 *
 *   source scripts/env.sh
 *   npm run restore-snapshot -- <snapshot-id|path.dump> [--stack local]
 *
 * The database (its connection, a secret read with `pulumi stack export --show-secrets`, never printed)
 * and the snapshots folder come from the stack's state, so an id resolves to `<snapshotsDir>/<id>.dump`
 * even for snapshots the stack no longer tracks. The database must be running (the stack is up). Stop
 * writers first; app servers reconnect to the restored database. Then set the stack's config back to
 * the version before the migration (there is no `pulumi rollback`).
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { TYPES } from "../src/names";
import { DUMP_SUFFIX, restoreDump } from "../src/targets/local/dumps";
import { postgresBinDir, type Connection } from "../src/targets/local/postgres";

interface Arguments {
    snapshot: string;
    stack: string;
}

const USAGE = "usage: restore-snapshot.ts <snapshot-id|path.dump> [--stack local]";

function parseArguments(argv: string[]): Arguments {
    const rest = [...argv];
    const args: Partial<Arguments> = { stack: "local" };
    while (rest.length > 0) {
        const word = rest.shift() as string;
        if (word === "--stack") {
            const value = rest.shift();
            if (value === undefined || value.startsWith("--")) throw new Error(`${word} needs a value\n${USAGE}`);
            args.stack = value;
        } else if (word.startsWith("--") || args.snapshot !== undefined) {
            throw new Error(`unexpected argument ${JSON.stringify(word)}\n${USAGE}`);
        } else {
            args.snapshot = word;
        }
    }
    if (args.snapshot === undefined) throw new Error(USAGE);
    return args as Arguments;
}

type StateResource = { type: string; outputs?: Record<string, unknown> };

/** The stack's database connection and snapshots folder, from its state (secrets decrypted, kept in memory). */
function fromState(stack: string): { connection: Connection; snapshotsDir?: string } {
    let exported: string;
    try {
        exported = execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", stack], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
    } catch (err) {
        const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message;
        throw new Error(`cannot read the state of stack ${stack} (source scripts/env.sh first, run from the project folder): ${stderr.trim()}`);
    }
    const resources: StateResource[] = JSON.parse(exported).deployment?.resources ?? [];
    const db = resources.find((r) => r.type === TYPES.localDatabase && r.outputs)?.outputs;
    if (!db) throw new Error(`stack ${stack} has no ${TYPES.localDatabase} resource: bring it up first (the database must be running to be restored)`);
    const snapshots = resources.filter((r) => r.type === TYPES.localSnapshot && typeof r.outputs?.snapshotsDir === "string");
    const connection = { host: db.host, port: db.listenPort, database: db.database, user: db.user, password: plain(db.password) } as Connection;
    return { connection, snapshotsDir: snapshots[snapshots.length - 1]?.outputs?.snapshotsDir as string | undefined };
}

/** A value of `stack export --show-secrets`: secrets come as `{4dabf18193072939515e22adb298388d: ..., plaintext: "<json>"}`. */
function plain(value: unknown): unknown {
    if (value && typeof value === "object" && "plaintext" in value) return JSON.parse((value as { plaintext: string }).plaintext);
    return value;
}

async function main(): Promise<void> {
    const args = parseArguments(process.argv.slice(2));
    const { connection, snapshotsDir } = fromState(args.stack);
    const isPath = args.snapshot.includes("/");
    if (!isPath && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(args.snapshot)) throw new Error(`${JSON.stringify(args.snapshot)} is not a snapshot id\n${USAGE}`);
    if (!isPath && !snapshotsDir) throw new Error(`stack ${args.stack} has no ${TYPES.localSnapshot} resource: give the snapshot's path`);
    const dumpPath = isPath ? resolve(args.snapshot) : join(snapshotsDir as string, `${args.snapshot}${DUMP_SUFFIX}`);
    console.log(`restoring ${dumpPath} as database ${connection.database} on 127.0.0.1:${connection.port}`);
    const { replaced } = await restoreDump(postgresBinDir(), connection, dumpPath);
    console.log(`restored: ${connection.database} now holds snapshot ${dumpPath}; the replaced database is kept as ${replaced}`);
}

main().catch((err: Error) => {
    console.error(`restore-snapshot: ${err.message}`);
    process.exitCode = 1;
});
