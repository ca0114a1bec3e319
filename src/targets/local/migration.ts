/**
 * `LocalMigration`: the local target's SQL migrations (src/targets/local/migrations.ts) applied up to a
 * version, on create and whenever an input changes (applying only what is not applied yet). A failure
 * fails the update: the failing file is rolled back and nothing after it runs. Delete does nothing: a
 * migration is undone by restoring the snapshot taken before it. The connection is a Pulumi secret.
 * Type token: `pulumi-nodejs:dynamic/local:Migration`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource } from "../../provider/providerShim";
import type { Connection } from "./postgres";

export interface LocalMigrationArgs {
    /** Absolute folder of the `<version>_<name>.sql` files. */
    migrationsDir: pulumi.Input<string>;
    /** Apply every file up to this version (a file must have it), e.g. `0002`. */
    migrationVersion: pulumi.Input<string>;
    /** The database (a secret: it holds the password). */
    connection: pulumi.Input<Connection>;
}

export class LocalMigration extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** The files this resource's last run applied, in order (empty when all were applied before). */
    declare readonly applied: pulumi.Output<string[]>;
    /** Every version recorded in the migrations table after the last run. */
    declare readonly schemaVersions: pulumi.Output<string[]>;

    constructor(name: string, args: LocalMigrationArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "localMigration",
            "local",
            "Migration",
            name,
            { ...args, applied: undefined, schemaVersions: undefined },
            opts,
            ["connection"],
        );
    }
}
