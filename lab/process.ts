/**
 * Child processes for tests: started, awaited until ready, and always stoppable.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { waitFor } from "./wait";

/** How long a process may take to become ready. */
const READY_TIMEOUT_MS = 10_000;
/** How long a process may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/** A started child process. */
export interface TestProcess {
    readonly child: ChildProcess;
    /** Everything the process wrote to stdout and stderr so far. */
    output(): string;
    /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
    stop(): Promise<void>;
}

/** Fails with `installHint` unless `command versionArgs` runs and exits 0. */
export function requireBinary(command: string, versionArgs: string[], installHint: string): void {
    const probe = spawnSync(command, versionArgs, { encoding: "utf8" });
    if (probe.error || probe.status !== 0) {
        const why = probe.error?.message ?? `exit ${probe.status}: ${probe.stderr}`;
        throw new Error(`${command} is needed by this test and could not be run (${why}); install it with \`${installHint}\``);
    }
}

/**
 * Spawns `command args` and waits (10 s at most) until `ready()` resolves true. Fails with the
 * process output if it exits first or never becomes ready; the process is then stopped.
 */
export async function startProcess(
    command: string,
    args: string[],
    ready: () => Promise<boolean>,
): Promise<TestProcess> {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    const exited = new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.once("error", (err) => {
            output += `${err.message}\n`;
            resolve();
        });
    });
    const started: TestProcess = { child, output: () => output, stop: () => terminate(child, exited) };
    let gone = false;
    void exited.then(() => (gone = true));
    try {
        const outcome = await waitFor(async () => (gone ? "exited" : (await ready()) ? "ready" : undefined), {
            what: `\`${command} ${args.join(" ")}\` to become ready`,
            timeoutMs: READY_TIMEOUT_MS,
        });
        if (outcome === "exited") {
            throw new Error(`\`${command} ${args.join(" ")}\` exited with ${child.exitCode ?? child.signalCode}: ${output}`);
        }
    } catch (err) {
        await started.stop();
        throw err;
    }
    return started;
}

function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        void exited.then(() => clearTimeout(timer));
        child.kill("SIGTERM");
    }
    return exited;
}
