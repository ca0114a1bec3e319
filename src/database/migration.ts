/**
 * `Migration` (runbook step 2): the pre-upgrade database migration, after the snapshot and before the
 * new pool. Named by the migration version, so an unchanged version runs nothing on a flip.
 */
import * as pulumi from "@pulumi/pulumi";
import { TYPES } from "../names";
import type { Target } from "../targets/target";

export interface MigrationArgs {
    /** Where the database lives (localTarget, awsTarget). */
    target: Target;
    /** The version the migration brings the database to. */
    migrationVersion: string;
    /** The snapshot taken for this migration; the migration waits for it. */
    snapshot: pulumi.Resource;
}

export class Migration extends pulumi.ComponentResource {
    /** The resource that runs the migration, for dependencies. */
    public readonly run: pulumi.Resource;

    constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TYPES.migration, name, {}, opts);
        this.run = args.target.migration(`${name}-run`, args.migrationVersion, { parent: this, dependsOn: [args.snapshot] });
        this.registerOutputs({});
    }
}
