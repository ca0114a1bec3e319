/**
 * The local target's database volume: a folder holding `database.json`, and its snapshots, which are
 * whole copies of that folder in a snapshots folder (runbook step 1; restoring one is the rollback of a
 * migration). Temporary entries (named `.tmp-*`) live beside their final place so that every finishing
 * step is a rename on one file system; snapshots never include them.
 */
import { cp, lstat, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { DATABASE_FILE, TEMP_PREFIX, emptyDatabase, writeDatabase } from "../../../app/database";

/** Snapshot labels (e.g. a migration version): they start the snapshot's folder name. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface Snapshot {
    /** Folder name of the snapshot: `<label>-<UTC timestamp>`, e.g. `0002-20261121T205400123Z`. */
    id: string;
    /** Absolute path of the snapshot folder. */
    path: string;
    /** Total size of the files copied. */
    bytes: number;
}

/** Creates `volumeDir` and an empty database in it unless one exists; returns whether it created one. */
export async function initVolume(volumeDir: string): Promise<boolean> {
    await mkdir(volumeDir, { recursive: true });
    const databasePath = join(volumeDir, DATABASE_FILE);
    if (existsSync(databasePath)) return false;
    writeDatabase(databasePath, emptyDatabase());
    return true;
}

function tempName(): string {
    return `${TEMP_PREFIX}${randomBytes(6).toString("hex")}`;
}

const skipTemporary = (source: string) => !basename(source).startsWith(TEMP_PREFIX);

/** Sum of the sizes of the files under `dir`. */
async function sizeOf(dir: string): Promise<number> {
    let bytes = 0;
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
        if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
    }
    return bytes;
}

/** `20261121T205400123Z` for 2026-11-21T20:54:00.123Z. */
function timestamp(date: Date): string {
    return date.toISOString().replace(/[-:.]/g, "");
}

/**
 * Copies the whole of `volumeDir` (except temporary entries) into a new folder `<snapshotsDir>/<id>`:
 * first into a temporary folder there, then renamed, so a snapshot folder is always complete. The id is
 * `<label>-<timestamp>`, with `-<n>` added if that folder exists already.
 */
export async function snapshotVolume(volumeDir: string, snapshotsDir: string, label: string): Promise<Snapshot> {
    if (!LABEL.test(label)) throw new Error(`snapshot label ${JSON.stringify(label)} is not allowed: expected ${LABEL}`);
    if (!(await stat(volumeDir)).isDirectory()) throw new Error(`volume ${volumeDir} is not a folder`);
    await mkdir(snapshotsDir, { recursive: true });
    const temp = join(snapshotsDir, tempName());
    try {
        await cp(volumeDir, temp, { recursive: true, errorOnExist: true, force: false, filter: skipTemporary });
        const bytes = await sizeOf(temp);
        const base = `${label}-${timestamp(new Date())}`;
        for (let n = 0; ; n++) {
            const id = n === 0 ? base : `${base}-${n}`;
            const path = join(snapshotsDir, id);
            if (existsSync(path)) continue;
            await rename(temp, path);
            return { id, path, bytes };
        }
    } catch (err) {
        await rm(temp, { recursive: true, force: true });
        throw err;
    }
}

/**
 * Replaces the contents of `volumeDir` with those of the snapshot at `snapshotPath`. The snapshot is first
 * copied into a temporary folder inside the volume; then every entry is moved into place by a rename, so
 * `database.json` is swapped in one step (a reader sees the old or the restored database, never a mix);
 * entries the snapshot lacks are removed. The volume folder itself stays (it may be a mount point).
 * Refuses a folder without `database.json`, so a wrong path cannot wipe the volume.
 */
export async function restoreSnapshot(snapshotPath: string, volumeDir: string): Promise<void> {
    if (!existsSync(join(snapshotPath, DATABASE_FILE))) {
        throw new Error(`${snapshotPath} is not a snapshot of a database volume: it has no ${DATABASE_FILE}`);
    }
    await mkdir(volumeDir, { recursive: true });
    const staging = join(volumeDir, tempName());
    try {
        await cp(snapshotPath, staging, { recursive: true, errorOnExist: true, force: false, filter: skipTemporary });
        const restored = await readdir(staging);
        for (const entry of restored) {
            const target = join(volumeDir, entry);
            const existing = await lstat(target).catch(() => undefined);
            if (existing?.isDirectory()) await rename(target, join(staging, `${TEMP_PREFIX}old-${entry}`));
            await rename(join(staging, entry), target);
        }
        for (const entry of await readdir(volumeDir)) {
            if (!restored.includes(entry) && join(volumeDir, entry) !== staging) {
                await rm(join(volumeDir, entry), { recursive: true, force: true });
            }
        }
    } finally {
        await rm(staging, { recursive: true, force: true });
    }
}
