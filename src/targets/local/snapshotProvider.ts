/**
 * The LocalSnapshot provider: a `pg_dump --format=custom` archive of the local database, taken before a
 * migration (runbook step 1). Any input change replaces it. Delete leaves the archive in place:
 * snapshots are never destroyed by this project (restore one with `npm run restore-snapshot`).
 */
import type * as pulumi from "@pulumi/pulumi";
import { existsSync } from "node:fs";
import { postgresBinDir, type Connection } from "./postgres";
import { dumpDatabase } from "./dumps";
import { connectionRule } from "./connectionInput";
import { progress } from "../../provider/providerLog";
import { absolutePath, changedKeys, checkFields, matching, pickInputs } from "./inputs";

export interface SnapshotInputs {
    connection: Connection;
    snapshotsDir: string;
    migrationVersion: string;
}

export interface SnapshotOutputs extends SnapshotInputs {
    /** `<migrationVersion>-<UTC timestamp>`. */
    snapshotId: string;
    /** Absolute path of the archive. */
    path: string;
    bytes: number;
    /** ISO 8601 time the dump started. */
    createdAt: string;
}

const INPUT_KEYS = ["connection", "snapshotsDir", "migrationVersion"] as const;

/** Accepted migration versions: sortable labels such as `0002` or `2026-11-21-add-index`. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const provider: pulumi.dynamic.ResourceProvider<SnapshotInputs, SnapshotOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, {
            connection: connectionRule,
            snapshotsDir: absolutePath,
            migrationVersion: matching(VERSION_PATTERN, "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
        });
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        // A new database (another port, password) is not a reason for another snapshot of this migration.
        const replaces = changedKeys<SnapshotInputs>(olds, news, ["snapshotsDir", "migrationVersion"]);
        return { changes: replaces.length > 0 || changedKeys<SnapshotInputs>(olds, news, ["connection"]).length > 0, replaces };
    },

    async create(inputs) {
        const createdAt = new Date().toISOString();
        const dump = await dumpDatabase(postgresBinDir(), inputs.connection, inputs.snapshotsDir, inputs.migrationVersion);
        progress(`database ${inputs.connection.database}: snapshot ${dump.id} (${dump.bytes} bytes, pg_dump) before migration ${inputs.migrationVersion}`);
        const outs = { ...inputs, snapshotId: dump.id, path: dump.path, bytes: dump.bytes, createdAt } satisfies SnapshotOutputs;
        return { id: dump.id, outs };
    },

    async read(id, props) {
        if (!props || !existsSync(props.path)) return {};
        return { id, props, inputs: pickInputs(props, INPUT_KEYS) as SnapshotOutputs };
    },

    async update(_id, olds, news) {
        // Only the connection changed: the archive stays what it is.
        return { outs: { ...olds, connection: news.connection } satisfies SnapshotOutputs };
    },

    async delete() {
        // Snapshots are kept: the archive stays in snapshotsDir for a later restore.
    },
};

export default provider;
