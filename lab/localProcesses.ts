/**
 * Helpers of the local target's integration tests: plain HTTP requests, and finding (and, in after hooks,
 * stopping) every process a test started under its own temporary folder.
 */
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";

/** One GET without keep-alive; resolves with the status and body. */
export function httpGet(url: string, timeoutMs = 70_000): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
        req.end();
    });
}

/** Pids of the processes for which `test(pid)` is true; a process that exits while `test` reads its `/proc` files is left out. */
export function processesWhere(test: (pid: number) => boolean): number[] {
    return readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .map(Number)
        .filter((pid) => {
            try {
                return test(pid);
            } catch {
                return false; // exited while we looked
            }
        });
}

/** Pids of live processes whose command line mentions `dir` (the test's temporary folder). */
export function processesUsing(dir: string): number[] {
    return processesWhere((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir));
}

/** SIGKILLs every process whose command line mentions `dir`; for after hooks, so nothing outlives a test. */
export function killProcessesUsing(dir: string): void {
    for (const pid of processesUsing(dir)) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // already gone
        }
    }
}

/** Whether a process with this pid exists (zombies excluded). */
export function pidAlive(pid: number): boolean {
    try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return false;
    }
}
