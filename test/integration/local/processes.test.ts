/**
 * Detached local processes: started with a marker, recognized only by it, stopped with SIGTERM then
 * SIGKILL; ports and sockets awaited with bounds.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    baseEnvironment,
    freePort,
    isPortFree,
    isRunning,
    logTail,
    startDetached,
    stopProcess,
    waitForPort,
    waitForUnixSocket,
} from "../../../src/targets/local/processes";
import { waitFor } from "../../../lab/wait";
import { killProcessesUsing, pidAlive } from "../../../lab/localProcesses";

describe("local processes", function () {
    let dir: string;

    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "bluegreen-proc-"));
    });

    afterEach(() => {
        killProcessesUsing(dir);
        rmSync(dir, { recursive: true, force: true });
    });

    /** Starts `node -e <script> <dir>` detached (the folder in argv lets the after hook find it). */
    function startNode(script: string, marker: string, env: Record<string, string> = {}): Promise<number> {
        return startDetached({
            argv: [process.execPath, "-e", script, dir],
            env: baseEnvironment(env),
            cwd: dir,
            logPath: join(dir, `${marker}.log`),
            marker,
        });
    }

    it("starts a process that logs to its file and is known by its marker only", async () => {
        const pid = await startNode("console.log('hello from', process.env.WHO); setInterval(() => {}, 1000)", "m1", { WHO: "test" });
        assert.equal(isRunning(pid, "m1"), true);
        assert.equal(isRunning(pid, "m2"), false, "another marker is not ours");
        assert.equal(isRunning(process.pid, "m1"), false, "an unmarked process is not ours");
        await waitFor(() => (readFileSync(join(dir, "m1.log"), "utf8").includes("hello from test") ? true : undefined), { what: "the log line" });
        assert.equal(logTail(join(dir, "m1.log")), "hello from test");
        assert.equal(await stopProcess(pid, "m2"), "not-running", "a wrong marker leaves the process alone");
        assert.equal(pidAlive(pid), true);
        assert.equal(await stopProcess(pid, "m1", { graceMs: 5000 }), "terminated");
        assert.equal(isRunning(pid, "m1"), false);
    });

    it("does not pass the rest of the environment on", async () => {
        process.env.BLUEGREEN_TEST_SECRET = "s3cret";
        try {
            const pid = await startNode("console.log('secret=' + process.env.BLUEGREEN_TEST_SECRET); setInterval(() => {}, 1000)", "env");
            await waitFor(() => (readFileSync(join(dir, "env.log"), "utf8").includes("secret=") ? true : undefined), { what: "the log line" });
            assert.equal(logTail(join(dir, "env.log")), "secret=undefined");
            await stopProcess(pid, "env", { graceMs: 5000 });
        } finally {
            delete process.env.BLUEGREEN_TEST_SECRET;
        }
    });

    it("kills a process that ignores SIGTERM once the grace period is over", async () => {
        const pid = await startNode("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)", "stubborn");
        await new Promise((r) => setTimeout(r, 300)); // let it install the handler
        const started = Date.now();
        assert.equal(await stopProcess(pid, "stubborn", { graceMs: 500 }), "killed");
        assert.ok(Date.now() - started >= 500);
        assert.equal(pidAlive(pid), false);
    });

    it("fails to start a program that does not exist", async () => {
        await assert.rejects(
            startDetached({ argv: [join(dir, "no-such-program")], env: baseEnvironment(), cwd: dir, logPath: join(dir, "x.log"), marker: "x" }),
            /cannot start .*no-such-program.*ENOENT/,
        );
    });

    it("waits for a port, fails at the deadline, and fails early when the process is gone", async () => {
        const port = await freePort();
        assert.equal(await isPortFree(port), true);
        await assert.rejects(waitForPort("127.0.0.1", port, 200), /127\.0\.0\.1:\d+: no connection accepted within 200 ms/);
        const started = Date.now();
        await assert.rejects(waitForPort("127.0.0.1", port, 10_000, () => false), /exited before accepting connections/);
        assert.ok(Date.now() - started < 1000);
        const server: Server = createServer().listen(port, "127.0.0.1");
        try {
            await waitForPort("127.0.0.1", port, 2000);
            assert.equal(await isPortFree(port), false);
        } finally {
            server.close();
        }
    });

    it("waits for a UNIX socket", async () => {
        const path = join(dir, "admin.sock");
        const server = createServer();
        setTimeout(() => server.listen(path), 100);
        try {
            await waitForUnixSocket(path, 2000);
        } finally {
            server.close();
        }
    });
});
