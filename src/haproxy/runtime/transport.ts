/**
 * Opening a byte stream to an HAProxy Runtime API socket: directly (UNIX socket, TCP) or through
 * SSH with OpenSSH streamlocal forwarding (`direct-streamlocal@openssh.com`), which needs nothing
 * on the load balancer host besides sshd.
 *
 * SSH connections are pooled: one logged-in connection per host, port, user and credentials serves
 * every Runtime API stream and SFTP session to that host, each on its own channel. A connection with
 * no open channel is closed after `sshIdleTimeoutMs`; a dropped one is replaced on the next call.
 */
import { createHash } from "node:crypto";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import { Client, type ClientChannel, type ServerHostKeyAlgorithm, type SFTPWrapper } from "ssh2";
import { describeEndpoint, type Endpoint } from "./endpoint";
import { hostKeyPolicy, normaliseFingerprint } from "./hostKeys";
import { parseKnownHosts } from "./knownHosts";
import { RuntimeInputError, validateTimeoutMs } from "./validate";

export { sshFingerprint } from "./knownHosts";

/**
 * How to log in to an `ssh://` endpoint and how its host key is verified; the user name comes from the
 * URL. A host key is checked against the host's `knownHosts` entries if there are any, else against
 * `hostKeySha256`; a host that neither covers is refused unless `allowUnknownHostKey`.
 */
export interface SshCredentials {
    /** Private key text (OpenSSH or PEM format). Never logged or put in an error. */
    privateKey: string;
    /** Passphrase of an encrypted private key. Never logged or put in an error. @default none */
    passphrase?: string;
    /**
     * Expected host key fingerprint as `ssh-keygen -lf` prints it (`SHA256:<base64>`), for hosts that
     * `knownHosts` does not list. @default none
     */
    hostKeySha256?: string;
    /**
     * OpenSSH known_hosts text (`host[,host2] keytype base64key` lines, hashed names allowed; see
     * knownHosts.ts). The entries of a host take precedence over `hostKeySha256`. @default none
     */
    knownHosts?: string;
    /** Accept, unverified, a host key that neither `knownHosts` nor `hostKeySha256` covers. @default false */
    allowUnknownHostKey?: boolean;
}

export interface TransportOptions {
    /** Time allowed to connect (for SSH: TCP, handshake, login and opening the channel). @default 3000 */
    connectTimeoutMs?: number;
    /** How long a pooled SSH connection with no open channel stays open for the next call. @default 5000 */
    sshIdleTimeoutMs?: number;
    /** Required for `ssh://` endpoints. */
    ssh?: SshCredentials;
}

/** Connect timeout used when `TransportOptions.connectTimeoutMs` is not given. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
/** Idle time of a pooled SSH connection used when `TransportOptions.sshIdleTimeoutMs` is not given. */
export const DEFAULT_SSH_IDLE_TIMEOUT_MS = 5000;

/**
 * The Runtime API could not be reached or the connection failed; `endpoint` is the described URL.
 * `retryable` is false when trying again cannot help until the configuration changes: a refused or
 * mismatching SSH host key, missing or unusable SSH credentials, a login the server refused.
 */
export class RuntimeConnectionError extends Error {
    constructor(
        public readonly endpoint: string,
        reason: string,
        public readonly retryable = true,
    ) {
        super(`${endpoint}: ${reason}`);
        this.name = "RuntimeConnectionError";
    }
}

/** Why a pooled SSH connection could not log in (secrets removed), and whether trying again may help. */
class SshLoginError extends Error {
    constructor(
        message: string,
        readonly retryable: boolean,
    ) {
        super(message);
    }
}

/** An open stream to the Runtime API. `close()` releases it (for SSH: its channel, not the pooled connection). */
export interface Connection {
    readonly stream: Duplex;
    close(): void;
}

/** `TransportOptions` checked, with defaults applied. */
export type ResolvedTransportOptions = Required<Pick<TransportOptions, "connectTimeoutMs" | "sshIdleTimeoutMs">> & TransportOptions;

/**
 * `TransportOptions` checked, with defaults applied and the host key fingerprint normalised. Throws
 * RuntimeInputError naming the bad field (`ssh.hostKeySha256`, `ssh.knownHosts line N`, ...).
 */
export function resolveTransportOptions(options: TransportOptions): ResolvedTransportOptions {
    const ssh = options.ssh;
    if (ssh?.knownHosts !== undefined) parseKnownHosts(ssh.knownHosts, "ssh.knownHosts");
    if (ssh?.allowUnknownHostKey !== undefined && typeof ssh.allowUnknownHostKey !== "boolean") {
        throw new RuntimeInputError("ssh.allowUnknownHostKey", ssh.allowUnknownHostKey, "true or false");
    }
    return {
        connectTimeoutMs: validateTimeoutMs("connectTimeoutMs", options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
        sshIdleTimeoutMs: validateTimeoutMs("sshIdleTimeoutMs", options.sshIdleTimeoutMs ?? DEFAULT_SSH_IDLE_TIMEOUT_MS),
        ssh: ssh && { ...ssh, hostKeySha256: ssh.hostKeySha256 === undefined ? undefined : normaliseFingerprint(ssh.hostKeySha256) },
    };
}

/**
 * The credentials to use for one load balancer: its own fingerprint (`lb.hostKeySha256`) first, which
 * then replaces both the known_hosts entries and the global fingerprint; otherwise `credentials` as
 * they are (its known_hosts entries, then the global `hostKeySha256`).
 */
export function sshOptionsFor(lb: { hostKeySha256?: string }, credentials: SshCredentials): SshCredentials {
    if (lb.hostKeySha256 === undefined) return credentials;
    return {
        privateKey: credentials.privateKey,
        ...(credentials.passphrase !== undefined ? { passphrase: credentials.passphrase } : {}),
        hostKeySha256: lb.hostKeySha256,
        ...(credentials.allowUnknownHostKey !== undefined ? { allowUnknownHostKey: credentials.allowUnknownHostKey } : {}),
    };
}

/** Opens a stream to `endpoint`, failing with `RuntimeConnectionError` after the connect timeout. */
export async function openConnection(endpoint: Endpoint, options: TransportOptions = {}): Promise<Connection> {
    const resolved = resolveTransportOptions(options);
    if (endpoint.kind !== "ssh") return openSocket(endpoint, resolved.connectTimeoutMs);
    const opened = await openPooledChannel<ClientChannel>(endpoint, resolved, `cannot open ${endpoint.socketPath} on the SSH host`, (client, callback) =>
        client.openssh_forwardOutStreamLocal(endpoint.socketPath, callback),
    );
    return { stream: opened.channel, close: opened.close };
}

/**
 * An SFTP session on the pooled SSH connection of an `ssh://` endpoint.
 * @internal Left out of the package's types (stripInternal), which would otherwise need `@types/ssh2`.
 */
export interface SftpSession {
    readonly sftp: SFTPWrapper;
    /** Ends the session; the pooled connection stays for the next call. */
    close(): void;
    /** Ends the session and closes the pooled connection under it (it stopped answering). */
    discard(): void;
}

/**
 * Starts an SFTP session on the pooled connection to `endpoint`'s host, within the connect timeout.
 * @internal
 */
export async function openSftp(endpoint: SshEndpoint, options: TransportOptions = {}): Promise<SftpSession> {
    const opened = await openPooledChannel<SFTPWrapper>(endpoint, resolveTransportOptions(options), "cannot start SFTP on the SSH host", (client, callback) =>
        client.sftp(callback),
    );
    return { sftp: opened.channel, close: opened.close, discard: opened.discard };
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

export type SshEndpoint = Extract<Endpoint, { kind: "ssh" }>;

/** What a pooled connection needs of a channel: SSH streams and SFTP sessions alike. */
interface SshChannel {
    destroy(): unknown;
    once(event: "close", listener: () => void): unknown;
    emit(event: "error", err: Error): boolean;
    listenerCount(event: "error"): number;
}

/** A logged-in (or logging-in) SSH connection shared by every channel to one host with one set of credentials. */
interface PooledSsh {
    readonly client: Client;
    readonly socket: net.Socket;
    /** Resolves once logged in; rejects with the reason (secrets removed) when the connection fails. */
    readonly ready: Promise<void>;
    readonly idleTimeoutMs: number;
    /** Channels open or being opened on it. */
    leases: number;
    idleTimer?: NodeJS.Timeout;
    /** Closed or closing: no new channel goes on it. */
    closed: boolean;
    /** Open channels, told about an error of the connection when they listen for errors. */
    readonly channels: Set<SshChannel>;
}

/** The pooled connections of this process, by `poolKey`. */
const pool = new Map<string, PooledSsh>();

/** Host, port, user, credentials and idle time, hashed: the secrets are not kept as map keys. */
function poolKey(endpoint: SshEndpoint, credentials: SshCredentials, idleTimeoutMs: number): string {
    const { host, port, username } = endpoint;
    return createHash("sha256").update(JSON.stringify([host, port, username, credentials, idleTimeoutMs])).digest("hex");
}

/** The live pooled connection for the key (a new one if there is none), with one more lease. */
function acquire(endpoint: SshEndpoint, options: ResolvedTransportOptions, credentials: SshCredentials): PooledSsh {
    const key = poolKey(endpoint, credentials, options.sshIdleTimeoutMs);
    let pooled = pool.get(key);
    // A socket that can no longer be written was dropped; its close event may not have come yet.
    if (!pooled || pooled.closed || pooled.socket.destroyed || pooled.socket.writableEnded) {
        pooled = connectSsh(key, endpoint, options, credentials);
        pool.set(key, pooled);
    }
    pooled.leases += 1;
    clearTimeout(pooled.idleTimer);
    pooled.socket.ref();
    return pooled;
}

/** Gives a lease back; the last one starts the idle timer, which closes the connection. */
function release(pooled: PooledSsh): void {
    pooled.leases -= 1;
    if (pooled.leases > 0 || pooled.closed) return;
    // An idle connection does not keep the process alive.
    pooled.socket.unref();
    pooled.idleTimer = setTimeout(() => closePooled(pooled, "end"), pooled.idleTimeoutMs);
    pooled.idleTimer.unref();
}

/**
 * Takes the connection out of the pool and closes it with every channel on it: `end` says goodbye to
 * the server (an idle connection), `destroy` drops the socket (a connection that stopped answering).
 */
function closePooled(pooled: PooledSsh, how: "end" | "destroy"): void {
    pooled.closed = true;
    clearTimeout(pooled.idleTimer);
    for (const [key, entry] of pool) if (entry === pooled) pool.delete(key);
    if (how === "end") pooled.client.end();
    else pooled.client.destroy();
}

/** Starts the connection and login of a new pooled connection; `ready` settles with the outcome. */
function connectSsh(key: string, endpoint: SshEndpoint, options: ResolvedTransportOptions, credentials: SshCredentials): PooledSsh {
    const client = new Client();
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
    let loggedIn = false;
    let refusal: string | undefined;
    let settle!: (err?: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
        settle = (err) => (err ? reject(err) : resolve());
    });
    const pooled: PooledSsh = { client, socket, ready, idleTimeoutMs: options.sshIdleTimeoutMs, leases: 0, closed: false, channels: new Set() };
    client.once("ready", () => {
        loggedIn = true;
        settle();
    });
    client.on("error", (err: Error & { level?: string }) => {
        if (!loggedIn) {
            const refused = refusal !== undefined || err.level === "client-authentication";
            settle(new SshLoginError(redact(refusal ?? `SSH: ${err.message}`, credentials), !refused));
        }
        for (const channel of pooled.channels) if (channel.listenerCount("error") > 0) channel.emit("error", err);
    });
    client.on("close", () => {
        pooled.closed = true;
        clearTimeout(pooled.idleTimer);
        if (pool.get(key) === pooled) pool.delete(key);
        if (!loggedIn) settle(new SshLoginError("SSH: the connection closed before login", true));
    });
    const policy = hostKeyPolicy(endpoint.host, endpoint.port, credentials);
    try {
        client.connect({
            sock: socket,
            username: endpoint.username,
            privateKey: credentials.privateKey,
            passphrase: credentials.passphrase,
            // The caller's connect timeout covers the login (openPooledChannel); ssh2's own is off.
            readyTimeout: 0,
            ...(policy.algorithms ? { algorithms: { serverHostKey: policy.algorithms as ServerHostKeyAlgorithm[] } } : {}),
            hostVerifier: (hostKey: Buffer) => {
                refusal = policy.check(hostKey);
                return refusal === undefined;
            },
        });
    } catch (err) {
        // ssh2 throws here for a private key or passphrase it cannot use.
        pooled.closed = true;
        socket.destroy();
        settle(new SshLoginError(redact(`SSH: ${(err as Error).message}`, credentials), false));
    }
    return pooled;
}

/** A channel opened on a pooled connection, holding a lease on it. */
interface PooledChannel<C> {
    channel: C;
    /** Closes the channel and gives the lease back. */
    close(): void;
    /** Closes the channel and the pooled connection (it stopped answering). */
    discard(): void;
}

/**
 * Opens a channel with `open` on the pooled connection for `endpoint`: waits for the connection to be
 * logged in, then opens the channel, all within the connect timeout. At the timeout the pooled
 * connection is closed (it does not answer) and a channel that still arrives is closed at once.
 */
function openPooledChannel<C extends SshChannel>(
    endpoint: SshEndpoint,
    options: ResolvedTransportOptions,
    what: string,
    open: (client: Client, callback: (err: Error | undefined, channel: C) => void) => void,
): Promise<PooledChannel<C>> {
    const where = describeEndpoint(endpoint);
    const credentials = options.ssh;
    if (!credentials) {
        return Promise.reject(new RuntimeConnectionError(where, "SSH credentials (ssh.privateKey) are required", false));
    }
    const pooled = acquire(endpoint, options, credentials);
    let released = false;
    const giveBack = () => {
        if (released) return;
        released = true;
        release(pooled);
    };
    return new Promise((resolve, reject) => {
        let settled = false;
        const fail = (reason: string, retryable = true) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            giveBack();
            reject(new RuntimeConnectionError(where, redact(reason, credentials), retryable));
        };
        const timer = setTimeout(() => {
            fail(`connect timed out after ${options.connectTimeoutMs} ms`);
            closePooled(pooled, "destroy");
        }, options.connectTimeoutMs);
        pooled.ready.then(
            () => {
                if (settled) return;
                open(pooled.client, (err, channel) => {
                    if (err) return fail(`${what}: ${err.message}`);
                    if (settled) return void channel.destroy();
                    settled = true;
                    clearTimeout(timer);
                    pooled.channels.add(channel);
                    const close = () => {
                        pooled.channels.delete(channel);
                        channel.destroy();
                        giveBack();
                    };
                    channel.once("close", close);
                    const discard = () => {
                        close();
                        closePooled(pooled, "destroy");
                    };
                    resolve({ channel, close, discard });
                });
            },
            (err: SshLoginError) => fail(err.message, err.retryable),
        );
    });
}

/** Removes any secret of `credentials` that a library might have put into `message`. */
function redact(message: string, credentials: SshCredentials): string {
    return [credentials.privateKey, credentials.passphrase]
        .filter((secret): secret is string => !!secret)
        .reduce((text, secret) => text.split(secret).join("[redacted]"), message);
}
