/**
 * A minimal WebSocket (RFC 6455) for tests, both ends: the opening handshake and short text frames
 * (payloads under 126 bytes, client frames masked as the RFC asks). Enough for HAProxy, which checks
 * the handshake and then carries the connection as a tunnel.
 */
import { createHash, randomBytes } from "node:crypto";
import { request, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/** The GUID that the `Sec-WebSocket-Accept` of RFC 6455 appends to the key. */
const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

function acceptFor(key: string): string {
    return createHash("sha1").update(key + HANDSHAKE_GUID).digest("base64");
}

/** One text frame; masked for a client's frames. */
function frame(text: string, masked: boolean): Buffer {
    const payload = Buffer.from(text);
    if (payload.length >= 126) throw new Error("webSocket: frames of this helper hold under 126 bytes");
    if (!masked) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
    const mask = randomBytes(4);
    return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4])]);
}

/** Reads the text frames in `head` (what came with the handshake) and then in `socket`'s data as they arrive (unmasking a client's). */
function onTextFrames(socket: Duplex, head: Buffer, handle: (text: string) => void): void {
    let buffered = Buffer.alloc(0);
    const take = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
            if (buffered.length < 2) return;
            const masked = (buffered[1] & 0x80) !== 0;
            const length = buffered[1] & 0x7f;
            const start = 2 + (masked ? 4 : 0);
            if (buffered.length < start + length) return;
            const mask = buffered.subarray(2, 6);
            const payload = buffered.subarray(start, start + length).map((b, i) => (masked ? b ^ mask[i % 4] : b));
            buffered = buffered.subarray(start + length);
            handle(Buffer.from(payload).toString());
        }
    };
    socket.on("data", take);
    take(head);
}

/**
 * Server side, for an HTTP server's `upgrade` event: completes the handshake, says `name` once, then
 * answers every message with `<name>: <message>`.
 */
export function acceptWebSocket(name: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const key = req.headers["sec-websocket-key"];
    if (typeof key !== "string") {
        socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
    socket.write(frame(name, false));
    onTextFrames(socket, head, (text) => socket.write(frame(`${name}: ${text}`, false)));
    socket.on("error", () => undefined); // a connection shut by HAProxy or the test
    socket.on("end", () => socket.end()); // an HTTP server's sockets are half-open: close ours too
}

/** An open WebSocket client connection. */
export interface WebSocketClient {
    /** Text messages received so far; the first is the name of the server that accepted it. */
    readonly messages: string[];
    /** Resolves when the connection ends (the server or HAProxy closed it), with when. */
    readonly closed: Promise<number>;
    send(text: string): void;
    close(): void;
}

/** Opens a WebSocket to `url` (`http://...`) and resolves once the server's first message arrived. */
export function openWebSocket(url: string, timeoutMs = 10_000): Promise<WebSocketClient> {
    const key = randomBytes(16).toString("base64");
    return new Promise((resolve, reject) => {
        const req = request(url, {
            agent: false,
            timeout: timeoutMs,
            headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13" },
        });
        req.on("timeout", () => req.destroy(new Error(`WebSocket ${url}: no handshake within ${timeoutMs} ms`)));
        req.on("error", reject);
        req.on("response", (res) => reject(new Error(`WebSocket ${url}: HTTP ${res.statusCode} instead of 101`)));
        req.on("upgrade", (res, socket, head) => {
            if (res.headers["sec-websocket-accept"] !== acceptFor(key)) {
                socket.destroy();
                reject(new Error(`WebSocket ${url}: wrong Sec-WebSocket-Accept`));
                return;
            }
            socket.setTimeout(0);
            const messages: string[] = [];
            const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now())));
            socket.on("error", () => undefined);
            onTextFrames(socket, head, (text) => {
                messages.push(text);
                if (messages.length === 1) resolve({ messages, closed, send: (text) => socket.write(frame(text, true)), close: () => socket.destroy() });
            });
        });
        req.end();
    });
}
