/**
 * `Migration` (runbook step 2): the pre-upgrade database migration, after the snapshot and before the
 * new pool. Named by the migration version, so an unchanged version runs nothing on a flip.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Target } from "./target";

export interface MigrationArgs {
    target: Target;
    /** The snapshot taken for this migration; the migration waits for it. */
    snapshot: pulumi.Resource;
}

export class Migration extends pulumi.ComponentResource {
    /** The resource that runs the migration, for dependencies. */
    public readonly run: pulumi.Resource;

    constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bluegreen:database:Migration", name, {}, opts);
        this.run = args.target.migration(`${name}-run`, { parent: this, dependsOn: [args.snapshot] });
        this.registerOutputs({});
    }
}
