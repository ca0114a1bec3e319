/**
 * A stand-in for HAProxy's Runtime API on a free loopback TCP port that records what it receives.
 * Like HAProxy in interactive mode, `prompt` gets an empty reply, `show info` names one process
 * (`FAKE_PROCESS_INFO`, what a client asks when it connects), and every other line gets
 * `answer(line)`, each followed by the prompt `"\n> "`; no reply at all when `answer` returns
 * `undefined` (a silent peer, for timeout tests).
 */
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/** The fake's `show info` reply: one process that never changes. */
export const FAKE_PROCESS_INFO = "Name: HAProxy\nPid: 4242\nStart_time_sec: 1795300000";

export interface FakeRuntimeApi {
    /** `tcp://127.0.0.1:<port>` */
    readonly url: string;
    readonly port: number;
    /** Connections accepted so far. */
    readonly connections: number;
    /** Every byte received, on all connections, in order. */
    readonly received: string;
    /** Closes every open connection (the listener stays). */
    dropConnections(): void;
    stop(): Promise<void>;
}

/** Starts the fake; by default every line is answered with an empty reply. */
export async function startFakeRuntimeApi(answer: (line: string) => string | undefined = () => ""): Promise<FakeRuntimeApi> {
    let connections = 0;
    let received = "";
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
        connections++;
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => socket.destroy());
        socket.setEncoding("utf8");
        let pending = "";
        socket.on("data", (chunk: string) => {
            received += chunk;
            const lines = (pending + chunk).split("\n");
            pending = lines.pop() ?? "";
            for (const line of lines) {
                const reply = line === "prompt" ? "" : line === "show info" ? FAKE_PROCESS_INFO : answer(line);
                if (reply !== undefined) socket.write(`${reply}\n> `);
            }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const dropConnections = () => sockets.forEach((s) => s.destroy());
    return {
        url: `tcp://127.0.0.1:${port}`,
        port,
        get connections() {
            return connections;
        },
        get received() {
            return received;
        },
        dropConnections,
        stop() {
            dropConnections();
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}
