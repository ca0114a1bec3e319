/**
 * `LocalSnapshot`: a copy of the local database volume folder, keyed by the migration it guards (runbook
 * step 1). Any input change replaces it; its delete leaves the copy in place (register it with
 * `retainOnDelete` too). Type token: `pulumi-nodejs:dynamic/local:Snapshot`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { ProjectDynamicResource } from "../../provider/providerShim";

export interface LocalSnapshotArgs {
    /** Absolute folder of the database volume (holds `database.json`; created with an empty database if missing). */
    volumeDir: pulumi.Input<string>;
    /** Absolute folder of the snapshots, outside `volumeDir`. */
    snapshotsDir: pulumi.Input<string>;
    /** The migration this snapshot is taken before; it starts the snapshot id. */
    migrationVersion: pulumi.Input<string>;
}

export class LocalSnapshot extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** Folder name of the snapshot in `snapshotsDir`, e.g. `0002-20261121T205400123Z`. */
    declare readonly snapshotId: pulumi.Output<string>;
    /** Absolute path of the snapshot folder. */
    declare readonly path: pulumi.Output<string>;
    /** Total size of the files copied. */
    declare readonly bytes: pulumi.Output<number>;
    /** ISO 8601 time the copy was taken. */
    declare readonly createdAt: pulumi.Output<string>;

    constructor(name: string, args: LocalSnapshotArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            path.join(__dirname, "snapshotProvider"),
            "local",
            "Snapshot",
            name,
            { ...args, snapshotId: undefined, path: undefined, bytes: undefined, createdAt: undefined },
            opts,
        );
    }
}
