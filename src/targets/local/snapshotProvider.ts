/**
 * The LocalSnapshot provider: a copy of the database volume folder, taken before a migration (runbook
 * step 1). Create initializes an empty database in a new volume first, so the first snapshot is
 * restorable too. Any input change replaces it. Delete leaves the copy in place: snapshots are never
 * destroyed by this project (restore one with `scripts/restore-snapshot.ts`).
 */
import type * as pulumi from "@pulumi/pulumi";
import { existsSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { RuntimeInputError } from "../../haproxy/runtime/validate";
import { VERSION_PATTERN } from "../../../app/database";
import { initVolume, snapshotVolume } from "./volume";
import { containsUnknown } from "../../provider/previewValues";
import { progress } from "../../provider/providerLog";
import { absolutePath, changedKeys, checkFields, matching, pickInputs } from "./inputs";

export interface SnapshotInputs {
    volumeDir: string;
    snapshotsDir: string;
    migrationVersion: string;
}

export interface SnapshotOutputs extends SnapshotInputs {
    /** Folder name of the snapshot in `snapshotsDir`. */
    snapshotId: string;
    /** Absolute path of the snapshot folder. */
    path: string;
    bytes: number;
    /** ISO 8601 time the copy was taken. */
    createdAt: string;
}

const INPUT_KEYS = ["volumeDir", "snapshotsDir", "migrationVersion"] as const;

/** Whether `inner` is `outer` or inside it. */
function within(inner: string, outer: string): boolean {
    const rel = relative(outer, inner);
    return rel === "" || (rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel));
}

const provider: pulumi.dynamic.ResourceProvider<SnapshotInputs, SnapshotOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, {
            volumeDir: absolutePath,
            snapshotsDir: absolutePath,
            migrationVersion: matching(VERSION_PATTERN, "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
        });
        if (failures.length === 0 && !containsUnknown([news.volumeDir, news.snapshotsDir]) && within(news.snapshotsDir, news.volumeDir)) {
            const err = new RuntimeInputError("snapshotsDir", news.snapshotsDir, "a folder outside volumeDir (a snapshot copies all of volumeDir)");
            failures.push({ property: err.field, reason: err.message });
        }
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        const replaces = changedKeys<SnapshotInputs>(olds, news, INPUT_KEYS);
        return { changes: replaces.length > 0, replaces };
    },

    async create(inputs) {
        if (await initVolume(inputs.volumeDir)) progress(`volume ${inputs.volumeDir}: created an empty database`);
        const createdAt = new Date().toISOString();
        const snapshot = await snapshotVolume(inputs.volumeDir, inputs.snapshotsDir, inputs.migrationVersion);
        progress(`volume ${inputs.volumeDir}: snapshot ${snapshot.id} (${snapshot.bytes} bytes) before migration ${inputs.migrationVersion}`);
        const outs = { ...inputs, snapshotId: snapshot.id, path: snapshot.path, bytes: snapshot.bytes, createdAt } satisfies SnapshotOutputs;
        return { id: snapshot.id, outs };
    },

    async read(id, props) {
        if (!props || !existsSync(props.path)) return {};
        return { id, props, inputs: pickInputs(props, INPUT_KEYS) as SnapshotOutputs };
    },

    async delete() {
        // Snapshots are kept: the copy stays in snapshotsDir for a later restore.
    },
};

export default provider;
