/**
 * The demo database: parsing, atomic writes, migrations (pure) and the migrate CLI (a real process on a
 * database file in a temporary folder).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    DATABASE_FILE,
    DatabaseError,
    applyMigration,
    emptyDatabase,
    migrateFile,
    parseDatabase,
    readDatabase,
    writeDatabase,
} from "../../../app/database";

const PROJECT_ROOT = join(__dirname, "..", "..", "..");

function runMigrate(version: string | undefined, env: Record<string, string>) {
    const args = ["-r", "ts-node/register/transpile-only", "app/migrate.ts", ...(version === undefined ? [] : [version])];
    return spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" });
}

describe("local database", () => {
    let dir: string;
    let dbPath: string;

    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "bluegreen-db-"));
        dbPath = join(dir, DATABASE_FILE);
        writeDatabase(dbPath, emptyDatabase());
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    describe("parseDatabase", () => {
        it("accepts the document shape and rejects others, naming the source", async () => {
            assert.deepEqual(parseDatabase('{"schemaVersion":["a"],"tables":{}}', "x"), { schemaVersion: ["a"], tables: {} });
            for (const bad of ["not json", "null", "[]", '{"schemaVersion":[1],"tables":{}}', '{"schemaVersion":[],"tables":[]}', '{"tables":{}}']) {
                assert.throws(() => parseDatabase(bad, "/vol/database.json"), (err: Error) => err instanceof DatabaseError && err.message.includes("/vol/database.json"));
            }
        });

        it("reports a missing or corrupt file with its path", async () => {
            assert.throws(() => readDatabase(join(dir, "missing.json")), /cannot read the database .*missing\.json: ENOENT/);
            writeFileSync(dbPath, "{");
            assert.throws(() => readDatabase(dbPath), /database\.json is not valid JSON/);
        });
    });

    describe("writeDatabase", () => {
        it("replaces the file and leaves no temporary file behind", async () => {
            const db = { schemaVersion: ["0001"], tables: { t: { columns: ["a"], rows: [{ a: 1 }] } } };
            writeDatabase(dbPath, db);
            assert.deepEqual(readDatabase(dbPath), db);
            assert.deepEqual(readdirSync(dir), [DATABASE_FILE]);
        });
    });

    describe("applyMigration", () => {
        it("creates a table, records the version and leaves its argument unchanged", async () => {
            const before = emptyDatabase();
            const { database, actions, changed } = applyMigration(before, "0001-create-orders");
            assert.equal(changed, true);
            assert.deepEqual(database.schemaVersion, ["0001-create-orders"]);
            assert.deepEqual(database.tables.orders, { columns: ["id", "item", "quantity"], rows: [] });
            assert.match(actions.join("\n"), /created table orders/);
            assert.deepEqual(before, emptyDatabase());
        });

        it("adds a column to existing rows", async () => {
            const db = applyMigration(emptyDatabase(), "0001-create-orders").database;
            db.tables.orders.rows.push({ id: 1, item: "tea", quantity: 2 });
            const { database } = applyMigration(db, "0002-add-orders-status");
            assert.deepEqual(database.tables.orders.columns, ["id", "item", "quantity", "status"]);
            assert.deepEqual(database.tables.orders.rows, [{ id: 1, item: "tea", quantity: 2, status: "new" }]);
        });

        it("fails a change whose table is missing", async () => {
            assert.throws(() => applyMigration(emptyDatabase(), "0002-add-orders-status"), /table orders does not exist/);
        });

        it("adds a marker table for an unknown version", async () => {
            const { database } = applyMigration(emptyDatabase(), "2026-11-21-add-index");
            assert.deepEqual(Object.keys(database.tables), ["migration_2026-11-21-add-index"]);
            assert.deepEqual(database.schemaVersion, ["2026-11-21-add-index"]);
        });

        it("is idempotent", async () => {
            const once = applyMigration(emptyDatabase(), "0003").database;
            const twice = applyMigration(once, "0003");
            assert.equal(twice.changed, false);
            assert.deepEqual(twice.database, once);
            assert.match(twice.actions[0], /already applied/);
        });

        it("fails versions named fail-* and versions outside the allowed pattern", async () => {
            assert.throws(() => applyMigration(emptyDatabase(), "fail-0003"), /fails on purpose/);
            for (const bad of ["", "-x", "a b", "a;rm", "x".repeat(65), "../x"]) {
                assert.throws(() => applyMigration(emptyDatabase(), bad), /is not allowed/);
            }
        });
    });

    describe("migrateFile", () => {
        it("writes the migrated database and changes nothing when re-run", async () => {
            migrateFile(dbPath, "0001-create-orders");
            const first = readFileSync(dbPath, "utf8");
            assert.deepEqual(migrateFile(dbPath, "0001-create-orders"), ["migration 0001-create-orders is already applied: nothing to do"]);
            assert.equal(readFileSync(dbPath, "utf8"), first);
        });
    });

    describe("app/migrate.ts", () => {
        it("applies the version and prints what it did", async () => {
            const run = runMigrate("0001-create-orders", { DATABASE_PATH: dbPath });
            assert.equal(run.status, 0, run.stderr);
            assert.match(run.stdout, /created table orders/);
            assert.match(run.stdout, /recorded schema version 0001-create-orders/);
            assert.deepEqual(readDatabase(dbPath).schemaVersion, ["0001-create-orders"]);
        });

        it("fails with a clear message and leaves the database unchanged", async () => {
            const before = readFileSync(dbPath, "utf8");
            const cases: [string | undefined, Record<string, string>, RegExp][] = [
                ["0001", { DATABASE_PATH: dbPath, MIGRATION_FAIL: "1" }, /fails on purpose \(MIGRATION_FAIL=1\)/],
                ["fail-0002", { DATABASE_PATH: dbPath }, /fails on purpose/],
                ["0001", {}, /DATABASE_PATH is not set/],
                ["0001", { DATABASE_PATH: join(dir, "nope.json") }, /cannot read the database/],
                [undefined, { DATABASE_PATH: dbPath }, /usage: migrate.ts <version>/],
            ];
            for (const [version, env, message] of cases) {
                const run = runMigrate(version, env);
                assert.equal(run.status, 1, `${version} ${JSON.stringify(env)}: ${run.stdout}`);
                assert.match(run.stderr, /^migration failed: /);
                assert.match(run.stderr, message);
            }
            assert.equal(readFileSync(dbPath, "utf8"), before);
        });
    });
});
