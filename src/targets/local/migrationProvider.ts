/**
 * The LocalMigration provider: applies the SQL migration files up to `migrationVersion`
 * (src/targets/local/migrations.ts) on create and on every update; a run applies only the files not yet
 * recorded in `schema_migrations`, so running it again changes nothing. Delete does nothing.
 */
import type * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "node:crypto";
import { postgresBinDir, type Connection } from "./postgres";
import { appliedVersions, migrate } from "./migrations";
import { connectionRule } from "./connectionInput";
import { progress } from "../../provider/providerLog";
import { absolutePath, changedKeys, checkFields, matching, pickInputs } from "./inputs";

export interface MigrationInputs {
    migrationsDir: string;
    migrationVersion: string;
    connection: Connection;
}

export interface MigrationOutputs extends MigrationInputs {
    applied: string[];
    schemaVersions: string[];
}

const INPUT_KEYS = ["migrationsDir", "migrationVersion", "connection"] as const;

async function run(inputs: MigrationInputs): Promise<MigrationOutputs> {
    const bin = postgresBinDir();
    const applied = (await migrate(bin, inputs.connection, inputs.migrationsDir, inputs.migrationVersion)).map((m) => m.file);
    const schemaVersions = await appliedVersions(bin, inputs.connection);
    progress(applied.length > 0 ? `migrated to ${inputs.migrationVersion}: applied ${applied.join(", ")}` : `migration ${inputs.migrationVersion}: already applied`);
    return { ...inputs, applied, schemaVersions };
}

const provider: pulumi.dynamic.ResourceProvider<MigrationInputs, MigrationOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, {
            migrationsDir: absolutePath,
            migrationVersion: matching(/^\d{4,16}$/, "the version of a migration file: 4 to 16 digits"),
            connection: connectionRule,
        });
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        return { changes: changedKeys<MigrationInputs>(olds, news, INPUT_KEYS).length > 0 };
    },

    async create(inputs) {
        return { id: randomBytes(8).toString("hex"), outs: await run(inputs) };
    },

    async read(id, props) {
        return props ? { id, props, inputs: pickInputs(props, INPUT_KEYS) as MigrationOutputs } : {};
    },

    async update(_id, _olds, news) {
        return { outs: await run(news) };
    },

    async delete() {
        // A migration is undone by restoring the snapshot taken before it (npm run restore-snapshot).
    },
};

export default provider;
