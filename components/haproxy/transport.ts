/**
 * Opening a byte stream to an HAProxy Runtime API socket: directly (UNIX socket, TCP) or through
 * SSH with OpenSSH streamlocal forwarding (`direct-streamlocal@openssh.com`), which needs nothing
 * on the load balancer host besides sshd.
 */
import { createHash } from "node:crypto";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import { Client } from "ssh2";
import { describeEndpoint, type Endpoint } from "./endpoint";
import { RuntimeInputError, validateTimeoutMs } from "./validate";

/** How to log in to an `ssh://` endpoint; the user name comes from the URL. */
export interface SshCredentials {
    /** Private key text (OpenSSH or PEM format). Never logged or put in an error. */
    privateKey: string;
    /** Passphrase of an encrypted private key. Never logged or put in an error. */
    passphrase?: string;
    /**
     * Expected host key fingerprint as `ssh-keygen -lf` prints it (`SHA256:<base64>`).
     * @default undefined: the host key is not verified
     */
    hostKeySha256?: string;
}

export interface TransportOptions {
    /** Time allowed to connect (for SSH: TCP, handshake, login and opening the socket). @default 3000 */
    connectTimeoutMs?: number;
    /** Required for `ssh://` endpoints. */
    ssh?: SshCredentials;
}

/** Connect timeout used when `TransportOptions.connectTimeoutMs` is not given. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

/** The Runtime API could not be reached or the connection failed; `endpoint` is the described URL. */
export class RuntimeConnectionError extends Error {
    constructor(
        public readonly endpoint: string,
        reason: string,
    ) {
        super(`${endpoint}: ${reason}`);
        this.name = "RuntimeConnectionError";
    }
}

/** An open stream to the Runtime API. `close()` releases it and everything under it (SSH session). */
export interface Connection {
    readonly stream: Duplex;
    close(): void;
}

/** `TransportOptions` checked, with defaults applied and the host key fingerprint normalised. */
export function resolveTransportOptions(options: TransportOptions): Required<Pick<TransportOptions, "connectTimeoutMs">> & TransportOptions {
    const hostKeySha256 = options.ssh?.hostKeySha256;
    return {
        connectTimeoutMs: validateTimeoutMs("connectTimeoutMs", options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
        ssh: options.ssh && { ...options.ssh, hostKeySha256: hostKeySha256 === undefined ? undefined : normaliseFingerprint(hostKeySha256) },
    };
}

/** Opens a stream to `endpoint`, failing with `RuntimeConnectionError` after the connect timeout. */
export function openConnection(endpoint: Endpoint, options: TransportOptions = {}): Promise<Connection> {
    const { connectTimeoutMs, ssh } = resolveTransportOptions(options);
    return endpoint.kind === "ssh" ? openSsh(endpoint, connectTimeoutMs, ssh) : openSocket(endpoint, connectTimeoutMs);
}

function openSocket(endpoint: Exclude<Endpoint, { kind: "ssh" }>, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
        const socket =
            endpoint.kind === "unix"
                ? net.connect(endpoint.path)
                : net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
        const fail = (reason: string) => {
            clearTimeout(timer);
            socket.destroy();
            reject(new RuntimeConnectionError(describeEndpoint(endpoint), reason));
        };
        const timer = setTimeout(() => fail(`connect timed out after ${timeoutMs} ms`), timeoutMs);
        socket.once("error", (err) => fail(`cannot connect: ${err.message}`));
        socket.once("connect", () => {
            clearTimeout(timer);
            socket.removeAllListeners("error");
            resolve({ stream: socket, close: () => socket.destroy() });
        });
    });
}

type SshEndpoint = Extract<Endpoint, { kind: "ssh" }>;

/** `credentials.hostKeySha256`, if set, must be normalised (`resolveTransportOptions`). */
function openSsh(endpoint: SshEndpoint, timeoutMs: number, credentials?: SshCredentials): Promise<Connection> {
    const where = describeEndpoint(endpoint);
    if (!credentials) {
        return Promise.reject(new RuntimeConnectionError(where, "SSH credentials (ssh.privateKey) are required"));
    }
    const expected = credentials.hostKeySha256;
    return new Promise((resolve, reject) => {
        const client = new Client();
        let settled = false;
        let presented: string | undefined;
        const fail = (reason: string) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            client.end();
            reject(new RuntimeConnectionError(where, redact(reason, credentials)));
        };
        const timer = setTimeout(() => fail(`connect timed out after ${timeoutMs} ms`), timeoutMs);
        client.on("error", (err) => {
            const mismatch = expected !== undefined && presented !== undefined && presented !== expected;
            fail(mismatch ? `host key ${presented} does not match hostKeySha256 ${expected}` : `SSH: ${err.message}`);
        });
        client.on("ready", () =>
            client.setNoDelay(true).openssh_forwardOutStreamLocal(endpoint.socketPath, (err, channel) => {
                if (err) return fail(`cannot open ${endpoint.socketPath} on the SSH host: ${err.message}`);
                if (settled) return channel.destroy();
                settled = true;
                clearTimeout(timer);
                client.on("error", (e) => channel.emit("error", e));
                channel.on("close", () => client.end());
                resolve({ stream: channel, close: () => client.end() });
            }),
        );
        try {
            client.connect({
                host: endpoint.host,
                port: endpoint.port,
                username: endpoint.username,
                privateKey: credentials.privateKey,
                passphrase: credentials.passphrase,
                readyTimeout: timeoutMs,
                hostVerifier:
                    expected === undefined
                        ? undefined
                        : (key: Buffer) => (presented = sshFingerprint(key)) === expected,
            });
        } catch (err) {
            fail(`SSH: ${(err as Error).message}`);
        }
    });
}

/** The OpenSSH `SHA256:<base64 without padding>` fingerprint of a raw host key blob. */
export function sshFingerprint(key: Buffer): string {
    return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** Accepts `SHA256:<base64>` or bare base64 (43 characters, optional `=`) and returns `SHA256:<base64>`. */
export function normaliseFingerprint(value: string): string {
    const m = /^(?:SHA256:)?([A-Za-z0-9+/]{43})=?$/.exec(value);
    if (!m) {
        throw new RuntimeInputError("ssh.hostKeySha256", value, "an OpenSSH SHA256 fingerprint such as SHA256:<43 base64 characters>");
    }
    return `SHA256:${m[1]}`;
}

/** Removes any secret of `credentials` that a library might have put into `message`. */
function redact(message: string, credentials: SshCredentials): string {
    return [credentials.privateKey, credentials.passphrase]
        .filter((secret): secret is string => !!secret)
        .reduce((text, secret) => text.split(secret).join("[redacted]"), message);
}
