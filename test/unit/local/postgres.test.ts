/**
 * The pure parts of the local target's PostgreSQL: finding the binaries (and saying how to install them),
 * running as the postgres user when root, the folders that user must pass, the migration plan, and the
 * restore's swap; the aws target's RDS snapshot identifiers. No process is started.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asServerUser, clusterProblems, postgresBinDir, psqlQuery } from "../../../src/targets/local/postgres";
import { planMigrations, recordStatement } from "../../../src/targets/local/migrations";
import { swapStatements } from "../../../src/targets/local/dumps";
import { rdsSnapshotIdentifier } from "../../../src/targets/aws/target";

describe("local PostgreSQL, pure parts", () => {
    let dir: string;
    before(() => {
        dir = mkdtempSync(join(tmpdir(), "bg-pg-unit-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("finds the highest Debian major version with every program, or says how to install PostgreSQL", () => {
        for (const [major, programs] of [["13", ["initdb", "postgres", "psql", "pg_dump", "pg_restore"]], ["15", ["initdb", "postgres", "psql", "pg_dump", "pg_restore"]], ["16", ["psql"]]] as const) {
            mkdirSync(join(dir, "pg", major, "bin"), { recursive: true });
            for (const p of programs) writeFileSync(join(dir, "pg", major, "bin", p), "");
        }
        assert.equal(postgresBinDir({}, join(dir, "pg")), join(dir, "pg", "15", "bin"), "16 lacks programs");
        assert.throws(() => postgresBinDir({}, join(dir, "none")), /PostgreSQL is not installed \(no PostgreSQL under .*none\): install it with `npm run setup` \(Debian: `apt-get install -y postgresql`\)/);
        assert.equal(postgresBinDir({ BLUEGREEN_PG_BIN: join(dir, "pg", "13", "bin") }, "/nonexistent"), join(dir, "pg", "13", "bin"));
        assert.throws(() => postgresBinDir({ BLUEGREEN_PG_BIN: join(dir, "pg", "16", "bin") }), /BLUEGREEN_PG_BIN=.* lacks one of initdb, postgres, psql, pg_dump, pg_restore/);
    });

    it("runs server programs as the postgres user through setpriv when root, as is otherwise", () => {
        assert.deepEqual(asServerUser(["/x/initdb", "-D", "/d"], 0), ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", "/x/initdb", "-D", "/d"]);
        assert.deepEqual(asServerUser(["/x/initdb"], 1000), ["/x/initdb"]);
    });

    it("names the folder the postgres user cannot enter", () => {
        const closed = join(dir, "closed");
        mkdirSync(join(closed, "state"), { recursive: true });
        chmodSync(dir, 0o711);
        chmodSync(closed, 0o700);
        assert.match(clusterProblems(join(closed, "state", "postgres", "db"), { uid: 101 }) ?? "", new RegExp(`cannot enter ${closed} \\(mode 700\\): \`chmod o\\+x ${closed}\``));
        chmodSync(closed, 0o711);
        assert.equal(clusterProblems(join(closed, "state", "postgres", "db"), { uid: 101 }), undefined);
        assert.equal(clusterProblems("/root/x", undefined), undefined, "not root: the server runs as us");
    });

    it("psql queries stop at the first error and never go through a shell", () => {
        assert.deepEqual(psqlQuery("SELECT 1"), ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1"]);
    });

    describe("planMigrations", () => {
        const files = ["0002_add_items_note.sql", "0001_create_items.sql", "0010_later.sql", "README.md"];

        it("applies the files up to the target not yet applied, in numeric order", () => {
            assert.deepEqual(planMigrations(files, [], "0002").map((m) => m.file), ["0001_create_items.sql", "0002_add_items_note.sql"]);
            assert.deepEqual(planMigrations(files, ["0001"], "0010").map((m) => m.file), ["0002_add_items_note.sql", "0010_later.sql"]);
            assert.deepEqual(planMigrations(files, ["0001", "0002"], "0002"), []);
        });

        it("refuses a misnamed file, a version used twice and a target no file has", () => {
            assert.throws(() => planMigrations([...files, "3_x.sql"], [], "0002"), /must be named <version>_<name>\.sql.*: 3_x\.sql/);
            assert.throws(() => planMigrations([...files, "0002_other.sql"], [], "0002"), /two migration files have version 0002/);
            assert.throws(() => planMigrations(files, [], "0003"), /no migration file has version "0003"/);
        });

        it("records a file with values its name pattern already checked", () => {
            assert.equal(recordStatement({ version: "0002", file: "0002_add_items_note.sql" }), "INSERT INTO schema_migrations (version, name) VALUES ('0002', '0002_add_items_note.sql')");
        });
    });

    it("swaps a restored database in: no new connections, sessions ended, renamed, the old one kept", () => {
        assert.deepEqual(swapStatements("app", "app_restore_x", "app_replaced_x"), [
            "ALTER DATABASE app WITH ALLOW_CONNECTIONS false",
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()",
            "ALTER DATABASE app RENAME TO app_replaced_x",
            "ALTER DATABASE app_restore_x RENAME TO app",
            "ALTER DATABASE app_replaced_x WITH ALLOW_CONNECTIONS true",
        ]);
    });

    it("RDS snapshot identifiers: letters, digits, single hyphens, starting with a letter", () => {
        assert.equal(rdsSnapshotIdentifier("prod", "site-snapshot-0042.add_index-volume"), "bluegreen-prod-site-snapshot-0042-add-index-volume");
        assert.equal(rdsSnapshotIdentifier("prod", "x--"), "bluegreen-prod-x");
    });
});
