/**
 * A copy of the project (program, library, app) in a temporary folder with its own stack config,
 * file:// backend and local state folder, driven through the Automation API. Free ports for the
 * load balancers, fast health checks, and every process it starts is killed by `dispose()`.
 */
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stateFolder } from "./stateFolder";
import { dump, load } from "js-yaml";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { PROJECT_ROOT, requireEngine, scratchBackend, type ScratchBackend } from "./engine";
import { freePort } from "./ports";
import { killProcessesUsing } from "./localProcesses";

/** What a scratch project copies from the checkout. */
const PROJECT_FILES = ["index.ts", "src", "program", "app", "Pulumi.yaml", "package.json", "tsconfig.json"];
const NAMESPACE = "haproxy-bluegreen";

export interface ScratchProject {
    dir: string;
    stateDir: string;
    stack: Stack;
    /** Environment for running the `pulumi` CLI on this project by hand (backend, passphrase, state). */
    env: Record<string, string>;
    /** Rewrites one top-level config key (an object or scalar) of the stack. */
    setConfig(key: string, value: unknown): Promise<void>;
    dispose(): Promise<void>;
}

/** The local config the tests start from: g1, `size` servers (default 2), 2 load balancers on free ports. */
export async function e2eConfig(size = 2): Promise<Record<string, unknown>> {
    const [p1, p2] = [await freePort(), await freePort()];
    return {
        generation: "g1",
        target: "local",
        pool: { size, namePrefix: "app", spec: { appRef: "v1.0.0" }, generations: { g2: { appRef: "v1.1.0", inputs: { REQUIRED_SCHEMA: "0002" } } } },
        healthCheck: { timeoutSeconds: 20, intervalMs: 100, rise: 1, fall: 2 },
        haproxy: {
            loadBalancers: [
                { name: "lb1", frontendPort: p1 },
                { name: "lb2", frontendPort: p2 },
            ],
            attachTimeoutSeconds: 15,
            drain: { timeoutSeconds: 60, pollIntervalMs: 100 },
        },
        database: { migration: { version: "0001" } },
    };
}

export async function scratchProject(stackName = "e2e", size = 2): Promise<ScratchProject> {
    requireEngine();
    const dir = stateFolder("bluegreen-e2e-");
    for (const file of PROJECT_FILES) cpSync(join(PROJECT_ROOT, file), join(dir, file), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    const stateDir = join(dir, ".bluegreen");
    const stackFile = join(dir, `Pulumi.${stackName}.yaml`);
    const initial = await e2eConfig(size);
    writeFileSync(stackFile, dump({ config: Object.fromEntries(Object.entries(initial).map(([k, v]) => [`${NAMESPACE}:${k}`, v])) }));
    const backend: ScratchBackend = scratchBackend();
    const env = { ...backend.env, BLUEGREEN_STATE: stateDir, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
    const stack = await LocalWorkspace.createStack({ stackName, workDir: dir }, { envVars: env });
    return {
        dir,
        stateDir,
        stack,
        env,
        async setConfig(key, value) {
            // Read, change one key, write: `stack.setConfig` (used for `generation`) writes the same file.
            const doc = load(readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> };
            doc.config[`${NAMESPACE}:${key}`] = value;
            writeFileSync(stackFile, dump(doc));
        },
        async dispose() {
            killProcessesUsing(dir);
            backend.dispose();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
