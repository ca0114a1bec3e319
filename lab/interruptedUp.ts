/**
 * A `pulumi up` interrupted the way an operator's terminal or a CI runner does it: the CLI in its own
 * process group, signalled once its output shows `pattern` (or once a moment watched elsewhere came). The engine starts its plugins (language
 * host, dynamic-provider host) in process groups of their own in the CLI's session, so a SIGKILLed CLI
 * leaves them running: the whole session is ended afterwards. `pulumi cancel` then releases a lock the
 * killed update may have left.
 */
import { spawn, spawnSync } from "node:child_process";
import type { Stack } from "@pulumi/pulumi/automation";
import type { ScratchProject } from "./scratchProject";

/**
 * Runs `pulumi up` on `p`'s stack `stack`; when the output first matches `when` (a pattern), or `when`
 * (a promise) resolves while the CLI runs, calls `interrupt` with the CLI's process group id (signal it
 * as `process.kill(-group, ...)`). Resolves once the CLI exited and its session ended, with whether the
 * moment was seen and the output.
 */
export async function interruptedUp(p: ScratchProject, stack: Stack, when: RegExp | Promise<unknown>, interrupt: (group: number) => void): Promise<{ seen: boolean; output: string }> {
    const cli = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", stack.name], {
        cwd: p.dir,
        env: { ...process.env, ...p.env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // its own process group, as in a terminal: Ctrl-C and the kill reach its plugins too
    });
    let output = "";
    let seen = false;
    let running = true;
    const exited = new Promise<void>((resolve) => cli.on("exit", () => resolve()));
    const seenNow = () => {
        if (seen || !running) return;
        seen = true;
        interrupt(cli.pid!);
    };
    cli.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (when instanceof RegExp && when.test(output)) seenNow();
    });
    if (!(when instanceof RegExp)) void when.then(seenNow);
    await exited;
    running = false;
    spawnSync("pkill", ["-KILL", "-s", String(cli.pid)]);
    await stack.cancel().catch(() => undefined); // a killed update may leave its lock behind
    return { seen, output };
}
