/**
 * Processes a test run or a soak left running. scripts/test.sh and the soak give their run a temporary
 * folder of its own as `TMPDIR`; every process they start inherits it (the Pulumi engine and its plugin
 * hosts pass the whole environment on, the local target's HAProxy, app servers and PostgreSQL keep
 * `TMPDIR`), so whatever still has that `TMPDIR` once the run is over is a stray.
 *
 * Run as a command: `node -r ts-node/register lab/strayProcesses.ts <run folder>` waits up to 10 s for the
 * run's processes to end, then prints each one left, SIGKILLs it, and exits 1 (0 if there was none).
 */
import { readFileSync } from "node:fs";
import { pidAlive, processesWhere } from "./localProcesses";
import { setTimeout as sleep } from "node:timers/promises";

/** How long processes of a finished run may take to exit before they count as strays, in ms. */
const EXIT_GRACE_MS = 10_000;

export interface StrayProcess {
    pid: number;
    command: string;
}

/** The parent pid of `pid`, or undefined once it is gone. */
function parentOf(pid: number): number | undefined {
    try {
        // The command name, in parentheses, may hold spaces: the fields after its closing one are fixed.
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
        return undefined;
    }
}

/** This process and its ancestors: they carry the run's environment and are not strays. */
function selfAndAncestors(): Set<number> {
    const chain = new Set<number>();
    for (let pid: number | undefined = process.pid; pid && !chain.has(pid); pid = parentOf(pid)) chain.add(pid);
    return chain;
}

/** Live processes (zombies excluded) whose environment has `TMPDIR=<runTmp>`, other than this one and its ancestors. */
export function strayProcesses(runTmp: string): StrayProcess[] {
    const marker = `TMPDIR=${runTmp}`;
    const exempt = selfAndAncestors();
    const marked = processesWhere((pid) => !exempt.has(pid) && pidAlive(pid) && readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(marker));
    return marked.flatMap((pid) => {
        try {
            return [{ pid, command: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim() }];
        } catch {
            return []; // exited while we looked
        }
    });
}

/** Waits up to 10 s for the run's processes to end; SIGKILLs those left and returns them. */
export async function endStrays(runTmp: string): Promise<StrayProcess[]> {
    const deadline = Date.now() + EXIT_GRACE_MS;
    let left = strayProcesses(runTmp);
    while (left.length > 0 && Date.now() < deadline) {
        await sleep(200);
        left = strayProcesses(runTmp);
    }
    for (const stray of left) {
        try {
            process.kill(stray.pid, "SIGKILL");
        } catch {
            // already gone
        }
    }
    return left;
}

if (require.main === module) {
    const runTmp = process.argv[2];
    if (!runTmp) {
        console.error("usage: node -r ts-node/register lab/strayProcesses.ts <the run's TMPDIR>");
        process.exit(2);
    }
    void endStrays(runTmp).then((left) => {
        for (const stray of left) console.error(`stray process ${stray.pid} (ended now): ${stray.command}`);
        console.log(`stray processes: ${left.length}`);
        process.exit(left.length === 0 ? 0 : 1);
    });
}
