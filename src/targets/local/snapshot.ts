/**
 * `LocalSnapshot`: a `pg_dump` archive of the local database, keyed by the migration it guards (runbook
 * step 1; src/targets/local/dumps.ts says why a dump). Any input change replaces it; its delete leaves
 * the archive in place (register it with `retainOnDelete` too). The connection is a Pulumi secret.
 * Type token: `pulumi-nodejs:dynamic/local:Snapshot`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource } from "../../provider/providerShim";
import type { Connection } from "./postgres";

export interface LocalSnapshotArgs {
    /** The database to dump (a secret: it holds the password). */
    connection: pulumi.Input<Connection>;
    /** Absolute folder of the snapshots, outside the cluster's folder. */
    snapshotsDir: pulumi.Input<string>;
    /** The migration this snapshot is taken before; it starts the snapshot id. */
    migrationVersion: pulumi.Input<string>;
}

export class LocalSnapshot extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** `<migrationVersion>-<UTC timestamp>`; the archive is `<snapshotsDir>/<snapshotId>.dump`. */
    declare readonly snapshotId: pulumi.Output<string>;
    /** Absolute path of the archive. */
    declare readonly path: pulumi.Output<string>;
    /** Size of the archive. */
    declare readonly bytes: pulumi.Output<number>;
    /** ISO 8601 time the dump started. */
    declare readonly createdAt: pulumi.Output<string>;

    constructor(name: string, args: LocalSnapshotArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "localSnapshot",
            "local",
            "Snapshot",
            name,
            { ...args, snapshotId: undefined, path: undefined, bytes: undefined, createdAt: undefined },
            opts,
            ["connection"],
        );
    }
}
