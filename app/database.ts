/**
 * The demo app's database: one JSON document (`database.json`) in a volume folder, replaced atomically
 * (written to a temporary file beside it, then renamed over it), so a reader sees the old or the new
 * document, never a partial one. Only `node:` modules here: the app server imports this and starts fast.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

/** The database's file name inside a volume folder. */
export const DATABASE_FILE = "database.json";

/** Prefix of temporary entries in a volume folder; snapshots skip them. */
export const TEMP_PREFIX = ".tmp-";

/** Accepted migration versions: sortable labels such as `0002` or `2026-11-21-add-index`. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface Table {
    columns: string[];
    rows: Record<string, unknown>[];
}

export interface Database {
    /** Applied migration versions, oldest first. */
    schemaVersion: string[];
    tables: Record<string, Table>;
}

/** A database file that cannot be read, or a migration that cannot be applied. */
export class DatabaseError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "DatabaseError";
    }
}

export function emptyDatabase(): Database {
    return { schemaVersion: [], tables: {} };
}

/** Parses a database document; throws `DatabaseError` naming `source` when its shape is wrong. */
export function parseDatabase(text: string, source: string): Database {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw new DatabaseError(`${source} is not valid JSON: ${(err as Error).message}`);
    }
    const db = doc as Partial<Database> | null;
    if (
        typeof db !== "object" ||
        db === null ||
        !Array.isArray(db.schemaVersion) ||
        !db.schemaVersion.every((v) => typeof v === "string") ||
        typeof db.tables !== "object" ||
        db.tables === null ||
        Array.isArray(db.tables)
    ) {
        throw new DatabaseError(`${source} is not a database: expected { schemaVersion: string[], tables: {...} }`);
    }
    return db as Database;
}

/** Reads and parses the database file at `path`. */
export function readDatabase(path: string): Database {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (err) {
        throw new DatabaseError(`cannot read the database ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return parseDatabase(text, path);
}

/** Writes `db` to `path` atomically: a synced temporary file in the same folder, renamed over `path`. */
export function writeDatabase(path: string, db: Database): void {
    const temp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${randomBytes(4).toString("hex")}`);
    try {
        const fd = openSync(temp, "wx", 0o600);
        try {
            writeSync(fd, `${JSON.stringify(db, null, 2)}\n`);
            fsyncSync(fd);
        } finally {
            closeSync(fd);
        }
        renameSync(temp, path);
    } catch (err) {
        rmSync(temp, { force: true });
        throw err;
    }
}

/** A schema change: mutates `db` idempotently and returns what it did, one line per change. */
type SchemaChange = (db: Database) => string[];

function createTable(db: Database, table: string, columns: string[]): string[] {
    if (db.tables[table]) return [`table ${table} exists`];
    db.tables[table] = { columns, rows: [] };
    return [`created table ${table} (${columns.join(", ")})`];
}

function addColumn(db: Database, table: string, column: string, initial: unknown): string[] {
    const t = db.tables[table];
    if (!t) throw new DatabaseError(`cannot add column ${table}.${column}: table ${table} does not exist`);
    if (t.columns.includes(column)) return [`column ${table}.${column} exists`];
    t.columns.push(column);
    for (const row of t.rows) row[column] = initial;
    return [`added column ${table}.${column} (${t.rows.length} rows set to ${JSON.stringify(initial)})`];
}

/** The demo's known schema changes by version. Any other version adds a marker table `migration_<version>`. */
export const MIGRATIONS: Readonly<Record<string, SchemaChange>> = {
    "0001-create-orders": (db) => createTable(db, "orders", ["id", "item", "quantity"]),
    "0002-add-orders-status": (db) => addColumn(db, "orders", "status", "new"),
};

export interface MigrationResult {
    /** The migrated database (`db` itself when nothing changed). */
    database: Database;
    /** What the migration did, one line per change. */
    actions: string[];
    /** False when `version` was already applied. */
    changed: boolean;
}

/**
 * Applies migration `version` to a copy of `db` and records it in `schemaVersion`; an applied version
 * changes nothing. Versions named `fail-*` fail on purpose (tests use them). Pure: `db` is not changed.
 */
export function applyMigration(db: Database, version: string): MigrationResult {
    if (!VERSION_PATTERN.test(version)) {
        throw new DatabaseError(`migration version ${JSON.stringify(version)} is not allowed: expected ${VERSION_PATTERN}`);
    }
    if (version.startsWith("fail-")) {
        throw new DatabaseError(`migration ${version} fails on purpose (versions named fail-* always fail)`);
    }
    if (db.schemaVersion.includes(version)) {
        return { database: db, actions: [`migration ${version} is already applied: nothing to do`], changed: false };
    }
    const database: Database = structuredClone(db);
    const change = MIGRATIONS[version] ?? ((d: Database) => createTable(d, `migration_${version}`, ["applied_at"]));
    const actions = change(database);
    database.schemaVersion.push(version);
    actions.push(`recorded schema version ${version}`);
    return { database, actions, changed: true };
}

/** Applies migration `version` to the database file at `path` (read, apply, atomic write). */
export function migrateFile(path: string, version: string): string[] {
    const { database, actions, changed } = applyMigration(readDatabase(path), version);
    if (changed) writeDatabase(path, database);
    return actions;
}
