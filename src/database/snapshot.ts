/**
 * `DatabaseSnapshot` (runbook step 1): a snapshot of the database taken before the migration. Keyed by
 * the migration version, so it is taken once per migration, not once per flip; retained when the engine
 * deletes it, so every snapshot stays restorable.
 */
import * as pulumi from "@pulumi/pulumi";
import { TYPES } from "../names";
import type { Target } from "../targets/target";

export interface DatabaseSnapshotArgs {
    /** Where the database lives (localTarget, awsTarget). */
    target: Target;
    /** The migration this snapshot guards. */
    migrationVersion: string;
}

export class DatabaseSnapshot extends pulumi.ComponentResource {
    /** The id to restore (local: a folder name under the snapshots folder; aws: an EBS snapshot id). */
    public readonly snapshotId: pulumi.Output<string>;

    constructor(name: string, args: DatabaseSnapshotArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPES.snapshot, name, {}, opts);
        this.snapshotId = args.target.snapshot(`${name}-volume`, args.migrationVersion, { parent: this, retainOnDelete: true });
        this.registerOutputs({ snapshotId: this.snapshotId });
    }
}
