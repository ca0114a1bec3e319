/**
 * A UNIX socket in front of an HAProxy admin socket that holds back the first command matching a
 * pattern until a test has done something (a reload) and then lets it through: the moment between two
 * steps of the plugin, made exact. Each client connection gets its own upstream connection, opened when
 * the client connects, so a command held across a reload reaches the process the connection was opened
 * to, as it would in production.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CommandGate {
    /** The endpoint to give the plugin instead of the admin socket's, `unix://...`. */
    readonly endpoint: string;
    /** Resolves with the held command once one matches `pattern`; `release()` lets it through. */
    hold(pattern: RegExp): Promise<string>;
    release(): void;
    close(): Promise<void>;
}

/** Starts a gate in front of `adminSocket` (a path). */
export async function startCommandGate(adminSocket: string): Promise<CommandGate> {
    const dir = mkdtempSync(join(tmpdir(), "bluegreen-gate-"));
    const path = join(dir, "gate.sock");
    const sockets = new Set<Socket>();
    let wanted: { pattern: RegExp; seen: (command: string) => void } | undefined;
    let held: (() => void) | undefined;

    const server: Server = createServer((client) => {
        const upstream = connect(adminSocket);
        sockets.add(client).add(upstream);
        let pending = "";
        let paused = false;
        const forward = () => {
            for (let nl = pending.indexOf("\n"); nl >= 0 && !paused; nl = pending.indexOf("\n")) {
                const line = pending.slice(0, nl + 1);
                if (wanted?.pattern.test(line)) {
                    const { seen } = wanted;
                    wanted = undefined;
                    paused = true;
                    held = () => {
                        paused = false;
                        held = undefined;
                        forward();
                    };
                    seen(line.trim());
                    return;
                }
                pending = pending.slice(nl + 1);
                upstream.write(line);
            }
        };
        client.on("data", (chunk: Buffer) => {
            pending += chunk.toString();
            forward();
        });
        upstream.on("data", (chunk) => client.write(chunk));
        const end = () => {
            client.destroy();
            upstream.destroy();
        };
        client.on("close", end).on("error", end);
        upstream.on("close", end).on("error", end);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return {
        endpoint: `unix://${path}`,
        hold: (pattern) => new Promise((seen) => (wanted = { pattern, seen })),
        release: () => held?.(),
        async close() {
            sockets.forEach((s) => s.destroy());
            await new Promise<void>((resolve) => server.close(() => resolve()));
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
