/**
 * A real HTTP application server for tests, on a free loopback port.
 *
 * `GET /health` answers 200 (503 after `setHealthy(false)`), `GET /slow?ms=N` answers its name after
 * N ms, any other path answers its name at once. Every request except `/health` is counted.
 */
import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";

export interface TestHttpServer {
    readonly name: string;
    readonly host: "127.0.0.1";
    readonly port: number;
    /** `http://127.0.0.1:<port>` */
    readonly url: string;
    /** Requests other than `/health` answered or in progress. */
    readonly requests: number;
    /** `/health` requests received. */
    readonly healthChecks: number;
    /** Makes `/health` answer 200 (true) or 503 (false). */
    setHealthy(healthy: boolean): void;
    /** Drops all connections and stops listening. */
    stop(): Promise<void>;
}

/** Starts a server answering with `name`. */
export async function startHttpServer(name: string): Promise<TestHttpServer> {
    let requests = 0;
    let healthChecks = 0;
    let healthy = true;
    const pending = new Set<NodeJS.Timeout>();
    const server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        if (url.pathname === "/health") {
            healthChecks++;
            res.statusCode = healthy ? 200 : 503;
            res.end(healthy ? "ok" : "unhealthy");
            return;
        }
        requests++;
        const delayMs = url.pathname === "/slow" ? Number(url.searchParams.get("ms") ?? 0) : 0;
        const timer = setTimeout(() => {
            pending.delete(timer);
            res.end(name);
        }, delayMs);
        pending.add(timer);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
    });
    const port = (server.address() as AddressInfo).port;
    return {
        name,
        host: "127.0.0.1",
        port,
        url: `http://127.0.0.1:${port}`,
        get requests() {
            return requests;
        },
        get healthChecks() {
            return healthChecks;
        },
        setHealthy(value: boolean) {
            healthy = value;
        },
        stop() {
            pending.forEach(clearTimeout);
            server.closeAllConnections();
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}

/** GET without keep-alive; resolves with status, body and when the response ended. */
export function fetchText(url: string): Promise<{ status: number; body: string; endedAt: number }> {
    return new Promise((resolve, reject) => {
        get(url, { agent: false }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body, endedAt: Date.now() }));
            res.on("error", reject);
        }).on("error", reject);
    });
}
