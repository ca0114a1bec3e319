/**
 * Applies one migration to the demo database (runbook step 2).
 *
 *   DATABASE_PATH=/volume/database.json node -r ts-node/register/transpile-only app/migrate.ts <version>
 *
 * Prints what it did, one line per change; an applied version changes nothing. Exits 1 with the reason on
 * stderr when the database is missing or unreadable, the version is not allowed or named `fail-*`, or the
 * environment has `MIGRATION_FAIL=1` (tests use the last two to make a migration fail on purpose).
 */
import { migrateFile } from "./database";

function main(argv: string[], env: NodeJS.ProcessEnv): void {
    const [version, ...extra] = argv;
    if (version === undefined || extra.length > 0) {
        throw new Error("usage: migrate.ts <version>  (with DATABASE_PATH set to the database file)");
    }
    const databasePath = env.DATABASE_PATH;
    if (!databasePath) throw new Error("DATABASE_PATH is not set: it must name the database file");
    if (env.MIGRATION_FAIL === "1") throw new Error(`migration ${version} fails on purpose (MIGRATION_FAIL=1)`);
    for (const action of migrateFile(databasePath, version)) console.log(action);
}

try {
    main(process.argv.slice(2), process.env);
} catch (err) {
    console.error(`migration failed: ${(err as Error).message}`);
    process.exitCode = 1;
}
