/**
 * The local target's database snapshots (runbook step 1) and their restore.
 *
 * A snapshot is a `pg_dump --format=custom` archive, `<snapshotsDir>/<label>-<UTC timestamp>.dump`.
 * pg_dump rather than `pg_basebackup`: a dump is one consistent file of one database (a snapshot
 * transaction, taken while the app keeps serving), compressed, restorable into any cluster of the same
 * or a later major version and selectively with `pg_restore`; a base backup copies the whole cluster's
 * files, needs WAL shipping to be consistent and restores only by replacing the cluster's folder with the
 * server stopped, which a minor upgrade's rollback should not need. The dump is written to a temporary
 * file beside its final place, then renamed: a snapshot file is always complete.
 *
 * Restore goes into a fresh database, then swaps it in (`restoreDump`): `pg_restore --single-transaction`
 * into `<db>_restore_<ts>`; then the live database refuses new connections, its sessions are ended and it
 * is renamed `<db>_replaced_<ts>` (kept, for a look or a manual drop), and the restored one takes its name.
 * Unlike `pg_restore --clean` into the live database, which drops only the objects the dump knows, this
 * also removes what the migration created after the snapshot (a new table), and clients see the old or
 * the restored database, never a half-restored one. Stop writers first: what they wrote after the
 * snapshot is in the replaced database only.
 */
import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { psqlQuery, runClient, type Connection } from "./postgres";

/** Snapshot labels (e.g. a migration version): they start the snapshot's file name. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A snapshot's file name ends with this. */
export const DUMP_SUFFIX = ".dump";

export interface Dump {
    /** `<label>-<UTC timestamp>`, e.g. `0002-20261121T205400123Z`; the file is `<id>.dump`. */
    id: string;
    path: string;
    bytes: number;
}

/** `20261121T205400123Z` for 2026-11-21T20:54:00.123Z. */
export function timestamp(date: Date): string {
    return date.toISOString().replace(/[-:.]/g, "");
}

/** Dumps the database of `connection` into a new `<snapshotsDir>/<label>-<timestamp>.dump` (see the file's comment). */
export async function dumpDatabase(bin: string, connection: Connection, snapshotsDir: string, label: string): Promise<Dump> {
    if (!LABEL.test(label)) throw new Error(`snapshot label ${JSON.stringify(label)} is not allowed: expected ${LABEL}`);
    await mkdir(snapshotsDir, { recursive: true, mode: 0o700 });
    const temp = join(snapshotsDir, `.tmp-${randomBytes(6).toString("hex")}${DUMP_SUFFIX}`);
    try {
        await runClient(bin, "pg_dump", ["--format=custom", "--no-password", `--file=${temp}`], connection);
        const base = `${label}-${timestamp(new Date())}`;
        for (let n = 0; ; n++) {
            const id = n === 0 ? base : `${base}-${n}`;
            const path = join(snapshotsDir, `${id}${DUMP_SUFFIX}`);
            if (existsSync(path)) continue;
            await rename(temp, path);
            return { id, path, bytes: (await stat(path)).size };
        }
    } finally {
        await rm(temp, { force: true });
    }
}

/** The statements that swap `restored` in for `live` (names checked by the caller: plain identifiers). */
export function swapStatements(live: string, restored: string, replaced: string): string[] {
    return [
        `ALTER DATABASE ${live} WITH ALLOW_CONNECTIONS false`,
        `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${live}' AND pid <> pg_backend_pid()`,
        `ALTER DATABASE ${live} RENAME TO ${replaced}`,
        `ALTER DATABASE ${restored} RENAME TO ${live}`,
        `ALTER DATABASE ${replaced} WITH ALLOW_CONNECTIONS true`,
    ];
}

/**
 * Restores the dump at `dumpPath` as the database of `connection` (see the file's comment); returns the
 * name the replaced database is kept under.
 */
export async function restoreDump(bin: string, connection: Connection, dumpPath: string): Promise<{ replaced: string }> {
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(connection.database)) throw new Error(`database name ${JSON.stringify(connection.database)} is not a plain identifier`);
    if (!existsSync(dumpPath)) throw new Error(`snapshot ${dumpPath} does not exist`);
    // A file that is not a custom-format archive fails here, before anything changes.
    await runClient(bin, "pg_restore", ["--list", dumpPath], connection);
    const suffix = timestamp(new Date()).toLowerCase();
    const restored = `${connection.database}_restore_${suffix}`;
    const replaced = `${connection.database}_replaced_${suffix}`;
    const admin = { ...connection, database: "postgres" };
    await runClient(bin, "psql", psqlQuery(`CREATE DATABASE ${restored}`), admin);
    try {
        await runClient(bin, "pg_restore", ["--single-transaction", "--exit-on-error", "--no-owner", `--dbname=${restored}`, dumpPath], { ...connection, database: restored });
    } catch (err) {
        await runClient(bin, "psql", psqlQuery(`DROP DATABASE IF EXISTS ${restored}`), admin);
        throw err;
    }
    for (const statement of swapStatements(connection.database, restored, replaced)) await runClient(bin, "psql", psqlQuery(statement), admin);
    return { replaced };
}
