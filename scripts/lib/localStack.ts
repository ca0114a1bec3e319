/**
 * The commands' way to a stack of this project: `--stack NAME` (default `local`), through the
 * Automation API on the project folder, with the environment scripts/env.sh set up.
 */
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** The value of `--stack` (default `local`), checked. */
export function stackArgument(argv: string[]): string {
    const i = argv.indexOf("--stack");
    const name = i >= 0 ? argv[i + 1] : "local";
    if (!name || !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) {
        throw new Error(`--stack: ${JSON.stringify(name)} is not a stack name (letters, digits, '_', '.', '-')`);
    }
    return name;
}

/** Selects (creating it if needed) the stack named by `--stack`. */
export function openStack(argv: string[]): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack({ stackName: stackArgument(argv), workDir: PROJECT_ROOT });
}
