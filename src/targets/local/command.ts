/**
 * `CommandRun`: a command run on this machine on create and when its triggers change, e.g. the local
 * target's database migration (the @pulumi/command provider binary cannot be built here). The command
 * is an argument list, never a shell line. Type token: `pulumi-nodejs:dynamic/local:Command`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { ProjectDynamicResource } from "../../provider/providerShim";

export interface CommandRunArgs {
    /** Program and arguments, e.g. `["node", "app/migrate.ts", "0002"]`; no shell is involved. */
    argv: pulumi.Input<pulumi.Input<string>[]>;
    /** Environment variables added to PATH, HOME, LANG, LC_ALL, TZ and TMPDIR. @default {} */
    env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Working folder, relative to the Pulumi program's folder. @default the program's folder */
    cwd?: pulumi.Input<string>;
    /** The command runs again when any of these change. @default [] */
    triggers?: pulumi.Input<pulumi.Input<string>[]>;
}

export class CommandRun extends ProjectDynamicResource {
    // `declare`: with ES2022 class fields a plain declaration would overwrite the outputs the base class set.
    /** The last 4 KB of the last run's stdout. */
    declare readonly stdout: pulumi.Output<string>;
    /** Always 0: a failed run fails the update. */
    declare readonly exitCode: pulumi.Output<number>;

    constructor(name: string, args: CommandRunArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            path.join(__dirname, "commandProvider"),
            "local",
            "Command",
            name,
            { ...args, stdout: undefined, exitCode: undefined },
            opts,
        );
    }
}
