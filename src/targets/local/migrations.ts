/**
 * SQL migrations of the local target (runbook step 2): files `<version>_<name>.sql` in a folder of the
 * repository (the demo's: `app/migrations/`), versions of 4 or more digits, applied in version order up
 * to the version the stack asks for, each once. Every file runs in its own transaction together with the
 * row that records it in `schema_migrations`, through `psql -v ON_ERROR_STOP=1 --single-transaction`
 * (arguments, never a shell line): a failing file leaves neither its changes nor its row behind.
 * `planMigrations` is pure (exported for tests); `migrate` runs the plan.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { psqlQuery, runClient, type Connection } from "./postgres";

/** A migration file name: `0002_add_items_note.sql`. */
export const MIGRATION_FILE = /^(\d{4,})_([a-z0-9_]{1,100})\.sql$/;

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = "schema_migrations";

export interface MigrationFile {
    version: string;
    file: string;
}

/**
 * The files to apply, in order, to bring a database with `applied` versions to `target`: every file up
 * to `target` not applied yet. Throws when a `.sql` file is misnamed, two files share a version, or no
 * file has version `target`.
 */
export function planMigrations(files: string[], applied: string[], target: string): MigrationFile[] {
    const sql = files.filter((f) => f.endsWith(".sql"));
    const bad = sql.filter((f) => !MIGRATION_FILE.test(f));
    if (bad.length > 0) throw new Error(`migration files must be named <version>_<name>.sql (${MIGRATION_FILE}): ${bad.join(", ")}`);
    const all = sql.map((file) => ({ version: (MIGRATION_FILE.exec(file) as RegExpExecArray)[1], file })).sort((a, b) => compareVersions(a.version, b.version));
    for (let i = 1; i < all.length; i++) {
        if (compareVersions(all[i - 1].version, all[i].version) === 0) throw new Error(`two migration files have version ${all[i].version}: ${all[i - 1].file}, ${all[i].file}`);
    }
    if (!all.some((m) => m.version === target)) {
        throw new Error(`no migration file has version ${JSON.stringify(target)} (files: ${all.map((m) => m.file).join(", ") || "none"})`);
    }
    const done = new Set(applied.map(Number));
    return all.filter((m) => compareVersions(m.version, target) <= 0 && !done.has(Number(m.version)));
}

/** Numeric order of versions (`0010` after `0009`, `10000` after `9999`). */
function compareVersions(a: string, b: string): number {
    return Number(a) - Number(b);
}

/** The statement that records `m` as applied; its values are checked by MIGRATION_FILE, so they need no escaping. */
export function recordStatement(m: MigrationFile): string {
    return `INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ('${m.version}', '${m.file}')`;
}

/** The versions recorded in the migrations table (created if missing), oldest first. */
export async function appliedVersions(bin: string, connection: Connection): Promise<string[]> {
    const create = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    await runClient(bin, "psql", psqlQuery(create), connection);
    const { stdout } = await runClient(bin, "psql", psqlQuery(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`), connection);
    return stdout.split("\n").filter((line) => line !== "");
}

/** Applies the files of `dir` up to `target` (see the file's comment); returns the files applied. */
export async function migrate(bin: string, connection: Connection, dir: string, target: string): Promise<MigrationFile[]> {
    const plan = planMigrations(await readdir(dir), await appliedVersions(bin, connection), target);
    for (const m of plan) {
        const args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", join(dir, m.file), "-c", recordStatement(m)];
        try {
            await runClient(bin, "psql", args, connection);
        } catch (err) {
            throw new Error(`migration ${m.file} failed and was rolled back: ${(err as Error).message}`);
        }
    }
    return plan;
}
