/**
 * A real HTTP application server for tests, on a free loopback port (or a given loopback address and
 * port); HTTPS with `tls` (key and certificate in PEM).
 *
 * `GET /health` answers 200 (503 after `setHealthy(false)`), `GET /slow?ms=N` answers its name after
 * N ms, any other path answers its name at once: the body says which server answered. Those answers
 * have status 200, or the one `setStatus` gave. Every request
 * except `/health` is counted. A WebSocket upgrade on any path is accepted (lab/webSocket.ts): the
 * server says its name and answers each message.
 */
import { createServer, get, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { acceptWebSocket } from "./webSocket";

export interface TestHttpServer {
    readonly name: string;
    /** The loopback address it listens on. @default "127.0.0.1" */
    readonly host: string;
    readonly port: number;
    /** `http://<host>:<port>`, or `https://` with `tls` */
    readonly url: string;
    /** With `tls`: the SNI host names the requests (health checks included) came with, `""` for none. */
    readonly serverNames: ReadonlySet<string>;
    /** WebSockets open on the server now. */
    readonly webSockets: number;
    /** Requests other than `/health` answered or in progress. */
    readonly requests: number;
    /** `/health` requests received. */
    readonly healthChecks: number;
    /** Makes `/health` answer 200 (true) or 503 (false). */
    setHealthy(healthy: boolean): void;
    /** The status of every answer but `/health`'s from now on, e.g. 500. @default 200 */
    setStatus(status: number): void;
    /** Drops all connections and stops listening. */
    stop(): Promise<void>;
}

/** Key and certificate (PEM) of an HTTPS server. */
export interface TlsIdentity {
    key: string;
    cert: string;
}

/** Starts a server answering with `name`, on `listen` (e.g. an emulated instance's 127.x address) or a free port of 127.0.0.1. */
export function startHttpServer(name: string, listen?: { host: string; port: number }): Promise<TestHttpServer> {
    return startServer(name, { ...(listen ? { listen } : {}) });
}

/** Starts an HTTPS server answering with `name`. */
export function startHttpsServer(name: string, tls: TlsIdentity): Promise<TestHttpServer> {
    return startServer(name, { tls });
}

async function startServer(name: string, options: { tls?: TlsIdentity; listen?: { host: string; port: number } }): Promise<TestHttpServer> {
    const host = options.listen?.host ?? "127.0.0.1";
    let requests = 0;
    let healthChecks = 0;
    let healthy = true;
    let status = 200;
    const pending = new Set<NodeJS.Timeout>();
    const serverNames = new Set<string>();
    const handler = (req: IncomingMessage, res: ServerResponse) => {
        if (options.tls) serverNames.add((req.socket as TLSSocket).servername || "");
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
            res.statusCode = status;
            res.end(name);
        }, delayMs);
        pending.add(timer);
    };
    const server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
    const upgraded = new Set<Duplex>();
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        upgraded.add(socket);
        socket.once("close", () => upgraded.delete(socket));
        acceptWebSocket(name, req, socket, head);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.listen?.port ?? 0, host, resolve);
    });
    const port = (server.address() as AddressInfo).port;
    return {
        name,
        host,
        port,
        url: `${options.tls ? "https" : "http"}://${host}:${port}`,
        serverNames,
        get requests() {
            return requests;
        },
        get webSockets() {
            return upgraded.size;
        },
        get healthChecks() {
            return healthChecks;
        },
        setHealthy(value: boolean) {
            healthy = value;
        },
        setStatus(value: number) {
            status = value;
        },
        stop() {
            pending.forEach(clearTimeout);
            server.closeAllConnections();
            upgraded.forEach((socket) => socket.destroy());
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}

/**
 * GET without keep-alive, with `headers` (e.g. `cookie`); resolves with status, body, the `Set-Cookie`
 * headers and when the response ended.
 */
export function fetchText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; setCookie: string[]; endedAt: number }> {
    return new Promise((resolve, reject) => {
        get(url, { agent: false, headers }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers["set-cookie"] ?? [], endedAt: Date.now() }));
            res.on("error", reject);
        }).on("error", reject);
    });
}
