/**
 * Test support for the real Pulumi engine: checks that the pinned CLI is on PATH (scripts/env.sh puts
 * the project's engine first) and gives each test its own file:// backend in a temporary folder.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

/** The engine version the project pins (scripts/env.sh). */
export const PINNED_PULUMI_VERSION = "v3.248.0";

export const PROJECT_ROOT = resolve(__dirname, "..");

/** Fails with instructions when the pinned `pulumi` is not on PATH. Never skips. */
export function requireEngine(): string {
    let version: string;
    try {
        version = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
    } catch (err) {
        throw new Error(
            "The Pulumi engine is not on PATH. Run the tests with `npm test` (it runs scripts/setup.sh, " +
                `which builds pulumi ${PINNED_PULUMI_VERSION} offline) or source scripts/env.sh first. (${(err as Error).message})`,
        );
    }
    if (version !== PINNED_PULUMI_VERSION) {
        throw new Error(`pulumi on PATH is ${version}, the project pins ${PINNED_PULUMI_VERSION}: run \`npm run setup\``);
    }
    return version;
}

/** A temporary file:// backend and passphrase, removed by `dispose()`. */
export interface ScratchBackend {
    dir: string;
    /** Environment for LocalWorkspace / the CLI: backend URL, passphrase, offline settings. */
    env: Record<string, string>;
    dispose(): void;
}

export function scratchBackend(): ScratchBackend {
    const dir = mkdtempSync(join(tmpdir(), "bluegreen-backend-"));
    return {
        dir,
        env: {
            PULUMI_BACKEND_URL: `file://${dir}`,
            PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"),
            // Empty is unset for Pulumi: the project's passphrase file (scripts/env.sh) must not win over this.
            PULUMI_CONFIG_PASSPHRASE_FILE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        },
        dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
}

/** Copies a program fixture into a temporary folder that uses the project's node_modules. */
export function scratchProgram(fixtureDir: string): { dir: string; dispose(): void } {
    const dir = mkdtempSync(join(tmpdir(), "bluegreen-program-"));
    cpSync(fixtureDir, dir, { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
