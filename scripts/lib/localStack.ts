/**
 * The commands' way to a stack of this project: `--stack NAME` (default `local`), through the
 * Automation API on the project folder, with the environment scripts/env.sh set up.
 */
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { copyFileSync, existsSync } from "node:fs";
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

/**
 * The local stack's config template. `Pulumi.local.yaml` itself is made from it on first use and is not
 * tracked: the demo writes `generation` into it, and the checkout stays clean.
 */
export const LOCAL_STACK_TEMPLATE = path.join(PROJECT_ROOT, "program", "local-stack.yaml");

/** Selects (creating it if needed) the stack named by `--stack`; the `local` stack's file comes from its template. */
export function openStack(argv: string[]): Promise<Stack> {
    const stackName = stackArgument(argv);
    const stackFile = path.join(PROJECT_ROOT, `Pulumi.${stackName}.yaml`);
    if (stackName === "local" && !existsSync(stackFile)) copyFileSync(LOCAL_STACK_TEMPLATE, stackFile);
    return LocalWorkspace.createOrSelectStack({ stackName, workDir: PROJECT_ROOT });
}
