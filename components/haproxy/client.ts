/**
 * HAProxy Runtime API client: one persistent interactive-mode connection per client, commands
 * queued and pipelined on it, one short method per verb.
 */
import { describeEndpoint, parseEndpoint, type Endpoint } from "./endpoint";
import {
    describeProcess,
    findStatRow,
    parseProcessInfo,
    parseServersState,
    parseShowStat,
    RuntimeFormatError,
    splitReplies,
    type ProcessIdentity,
    type ServerStateRow,
    type StatRow,
} from "./parsers";
import {
    openConnection,
    resolveTransportOptions,
    RuntimeConnectionError,
    type Connection,
    type TransportOptions,
} from "./transport";
import {
    RuntimeInputError,
    validateAddress,
    validateCheck,
    validateKeys,
    validateName,
    validatePort,
    validateServerState,
    validateTimeoutMs,
    validateWeight,
    type CheckOptions,
    type ServerState,
} from "./validate";

export interface RuntimeClientOptions extends TransportOptions {
    /**
     * Longest wait for a reply, counted from when the command became the oldest unanswered one;
     * on expiry every unanswered command fails and the connection is closed. @default 5000
     */
    ioTimeoutMs?: number;
    /**
     * Close the connection after this long without a command; the next command reconnects. Keep it
     * below HAProxy's `stats timeout` (default 10 s) so HAProxy never closes under a command. @default 5000
     */
    idleTimeoutMs?: number;
}

/** I/O timeout used when `RuntimeClientOptions.ioTimeoutMs` is not given. */
export const DEFAULT_IO_TIMEOUT_MS = 5000;
/** Idle timeout used when `RuntimeClientOptions.idleTimeoutMs` is not given. */
export const DEFAULT_IDLE_TIMEOUT_MS = 5000;

/** What went wrong in a `RuntimeCommandError`; callers treat "already gone" codes specially. */
export type RuntimeErrorCode =
    | "no-such-backend"
    | "no-such-server"
    | "still-has-connections"
    | "already-exists"
    | "not-in-maintenance"
    | "referenced"
    | "proxy-disabled"
    | "unexpected-reply";

/** HAProxy 2.6.12 error replies (trimmed) and their codes. */
const KNOWN_REPLIES: Readonly<Record<string, RuntimeErrorCode>> = {
    "No such backend.": "no-such-backend",
    "No such proxy.": "no-such-backend",
    "Can't find backend.": "no-such-backend",
    "No such server.": "no-such-server",
    "Server still has connections attached to it, cannot remove it.": "still-has-connections",
    "Already exists a server with the same name in backend.": "already-exists",
    "Only servers in maintenance mode can be deleted.": "not-in-maintenance",
    // A soft-stopping process (the old one after a reload) answers every write with this.
    "Proxy is disabled.": "proxy-disabled",
};

/** Reply prefixes with a code (the reply goes on with details). */
const KNOWN_PREFIXES: readonly [string, RuntimeErrorCode][] = [
    // `del server` of a server that `track` or other configuration points to (wording differs by version).
    ["This server is referenced", "referenced"],
    ["This server cannot be removed at runtime due to other configuration elements", "referenced"],
    ["Server still has connections attached to it", "still-has-connections"],
];

/** The code of an error reply. Exported for testing. */
export function classifyReply(reply: string): RuntimeErrorCode {
    const text = reply.trim();
    return KNOWN_REPLIES[text] ?? KNOWN_PREFIXES.find(([prefix]) => text.startsWith(prefix))?.[1] ?? "unexpected-reply";
}

/** Longest part of a reply quoted in an error message (the full reply is in `reply`). */
const MAX_QUOTED_REPLY = 300;

/** HAProxy answered a command with something other than its success text. */
export class RuntimeCommandError extends Error {
    constructor(
        public readonly code: RuntimeErrorCode,
        public readonly command: string,
        public readonly endpoint: string,
        public readonly reply: string,
    ) {
        const text = reply.trim();
        const shown = text.length > MAX_QUOTED_REPLY ? `${text.slice(0, MAX_QUOTED_REPLY)}…` : text;
        super(`${endpoint}: "${command}" failed (${code}): HAProxy replied ${JSON.stringify(shown)}`);
        this.name = "RuntimeCommandError";
    }
}

/**
 * Refuses a command that could carry a second command or leave HAProxy's line mode: `;`, `#`, `\`,
 * control characters (newlines included) and a trailing `<<` payload marker. Defence in depth: the
 * verb methods only format validated values. Exported for testing.
 */
export function checkCommand(command: string): string {
    if (typeof command !== "string" || !/^[^;#\\\x00-\x1f\x7f]+$/.test(command) || /<<\s*$/.test(command)) {
        throw new RuntimeInputError("command", command, "one Runtime API command without ';', '#', '\\', '<<' or control characters");
    }
    return command;
}

/** `address:port`, with IPv6 addresses in brackets. Exported for testing. */
export function formatAddress(address: string, port: number): string {
    return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Settings of a server added with `addServer`. */
export interface AddServerOptions {
    /** IPv4, IPv6 (no brackets) or DNS name (resolved only with a `resolvers` section). */
    address: string;
    /** 1..65535 */
    port: number;
    /** 0..256. @default HAProxy's 1 */
    weight?: number;
    /** Health check; `inter`, `rise` and `fall` are sent only when `enabled`. @default no check */
    check?: CheckOptions;
}

/** An HAProxy process that was replaced (reload, restart) but may still finish sessions. */
export interface PreviousProcess {
    process: ProcessIdentity;
    /** `show stat <backend> -1 -1` of that process (reads are all a soft-stopping process answers). */
    showStat(backend: string): Promise<StatRow[]>;
    /** Closes the connection to it: an open admin connection keeps a soft-stopping process alive. */
    release(): void;
}

/**
 * A client for one HAProxy Runtime API endpoint. Call `close()` when done.
 *
 * A reload or restart puts a new process behind the endpoint while a connection opened before keeps
 * talking to the old, soft-stopping one. So `currentProcess()` checks, on a new connection, which
 * process answers now: commands then go to that one, and the old connection stays open, for reads only,
 * as a `PreviousProcess` (its sessions still count while a server drains).
 */
export class RuntimeClient {
    readonly endpoint: Endpoint;
    private readonly where: string;
    private readonly settings: SessionSettings;
    private live?: Session;
    private opening?: Promise<Session>;
    private verifying?: Promise<ProcessIdentity>;
    private readonly previous: Session[] = [];

    constructor(endpoint: string | Endpoint, options: RuntimeClientOptions = {}) {
        this.endpoint = typeof endpoint === "string" ? parseEndpoint(endpoint) : endpoint;
        this.where = describeEndpoint(this.endpoint);
        this.settings = {
            transport: resolveTransportOptions(options),
            ioTimeoutMs: validateTimeoutMs("ioTimeoutMs", options.ioTimeoutMs ?? DEFAULT_IO_TIMEOUT_MS),
            idleTimeoutMs: validateTimeoutMs("idleTimeoutMs", options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS),
        };
    }

    /**
     * Sends one command and returns HAProxy's reply (without the prompt). Commands may be issued
     * concurrently: they are written in call order on the one connection and answered in order.
     * Opens (or re-opens, after an idle close or a drop) the connection as needed.
     */
    async execute(command: string): Promise<string> {
        checkCommand(command);
        return (await this.session()).send(command);
    }

    /** Waits for unanswered commands, then closes the connections. A later command opens a new one. */
    async close(): Promise<void> {
        const session = this.live ?? (await this.opening?.catch(() => undefined));
        this.live = undefined;
        for (const old of this.previous.splice(0)) old.end();
        await session?.shutdown();
    }

    /**
     * The process that answers on the endpoint now, asked on a new connection, which later commands
     * use. If it is not the process the client talked to before, that older connection is kept as a
     * `PreviousProcess`. Concurrent calls share one check.
     */
    currentProcess(): Promise<ProcessIdentity> {
        this.verifying ??= this.reconnect().finally(() => (this.verifying = undefined));
        return this.verifying;
    }

    /** Replaced processes still reachable through a connection opened before their replacement. */
    previousProcesses(): PreviousProcess[] {
        for (let i = this.previous.length - 1; i >= 0; i--) if (this.previous[i].closed) this.previous.splice(i, 1);
        return this.previous.map((session) => ({
            process: session.process,
            showStat: (backend: string) =>
                session.send(`show stat ${validateName("backend", backend)} -1 -1`).then((reply) => parseShowStat(reply)),
            release: () => session.end(),
        }));
    }

    private async reconnect(): Promise<ProcessIdentity> {
        const before = this.live ?? (await this.opening?.catch(() => undefined));
        const fresh = await Session.open(this.endpoint, this.settings);
        this.live = fresh;
        if (before && !before.closed) {
            if (describeProcess(before.process) === describeProcess(fresh.process)) void before.shutdown();
            else this.previous.push(before);
        }
        return fresh.process;
    }

    /** `add server <backend>/<server> <address>:<port> [weight W] [check [inter I] [rise R] [fall F]]`; the server starts in MAINT. */
    async addServer(backend: string, server: string, options: AddServerOptions): Promise<void> {
        const o = validateKeys("options", options, ["address", "port", "weight", "check"]);
        const words = [`add server ${target(backend, server)}`, formatAddress(validateAddress("address", o.address), validatePort("port", o.port))];
        if (o.weight !== undefined) words.push(`weight ${validateWeight("weight", o.weight)}`);
        const check = o.check === undefined ? undefined : validateCheck("check", o.check);
        if (check?.enabled) {
            words.push("check");
            if (check.inter !== undefined) words.push(`inter ${check.inter}`);
            if (check.rise !== undefined) words.push(`rise ${check.rise}`);
            if (check.fall !== undefined) words.push(`fall ${check.fall}`);
        }
        await this.expect(words.join(" "), "New server registered.");
    }

    /** `enable health <backend>/<server>` (the server must have been added with a check). */
    async enableHealth(backend: string, server: string): Promise<void> {
        await this.expect(`enable health ${target(backend, server)}`, "");
    }

    /** `disable health <backend>/<server>` */
    async disableHealth(backend: string, server: string): Promise<void> {
        await this.expect(`disable health ${target(backend, server)}`, "");
    }

    /** `set server <backend>/<server> state ready|drain|maint` */
    async setState(backend: string, server: string, state: ServerState): Promise<void> {
        await this.expect(`set server ${target(backend, server)} state ${validateServerState("state", state)}`, "");
    }

    /** `set server <backend>/<server> weight <0..256>` */
    async setWeight(backend: string, server: string, weight: number): Promise<void> {
        await this.expect(`set server ${target(backend, server)} weight ${validateWeight("weight", weight)}`, "");
    }

    /** `shutdown sessions server <backend>/<server>`: kills the server's current sessions. */
    async shutdownSessions(backend: string, server: string): Promise<void> {
        await this.expect(`shutdown sessions server ${target(backend, server)}`, "");
    }

    /** `del server <backend>/<server>`: needs MAINT and no connection left (else code `still-has-connections`). */
    async delServer(backend: string, server: string): Promise<void> {
        await this.expect(`del server ${target(backend, server)}`, "Server deleted.");
    }

    /** `show stat` (all proxies) or `show stat <backend> -1 -1` (one backend). */
    async showStat(backend?: string): Promise<StatRow[]> {
        const command = backend === undefined ? "show stat" : `show stat ${validateName("backend", backend)} -1 -1`;
        return this.parse(command, parseShowStat);
    }

    /** `show servers state [<backend>]` */
    async showServersState(backend?: string): Promise<ServerStateRow[]> {
        const command = backend === undefined ? "show servers state" : `show servers state ${validateName("backend", backend)}`;
        return this.parse(command, parseServersState);
    }

    /** The `show stat` row of one server, or `undefined` if the backend has no such server. */
    async getServer(backend: string, server: string): Promise<StatRow | undefined> {
        validateName("server", server);
        return findStatRow(await this.showStat(backend), backend, server);
    }

    private async expect(command: string, success: string): Promise<void> {
        const reply = await this.execute(command);
        if (reply.trim() !== success) {
            throw new RuntimeCommandError(classifyReply(reply), command, this.where, reply);
        }
    }

    private async parse<T>(command: string, parser: (text: string) => T): Promise<T> {
        const reply = await this.execute(command);
        try {
            return parser(reply);
        } catch (err) {
            if (err instanceof RuntimeFormatError) {
                throw new RuntimeCommandError(classifyReply(reply), command, this.where, reply);
            }
            throw err;
        }
    }

    private session(): Session | Promise<Session> {
        if (this.live && !this.live.closed) return this.live;
        this.opening ??= Session.open(this.endpoint, this.settings)
            .then((s) => (this.live = s))
            .finally(() => (this.opening = undefined));
        return this.opening;
    }
}

/** `<backend>/<server>` from validated names. */
function target(backend: string, server: string): string {
    return `${validateName("backend", backend)}/${validateName("server", server)}`;
}

/** Resolved options of a `Session`. */
interface SessionSettings {
    transport: TransportOptions;
    ioTimeoutMs: number;
    idleTimeoutMs: number;
}

interface Pending {
    command: string;
    resolve(reply: string): void;
    reject(err: Error): void;
}

/** One interactive-mode connection: commands are written at once and matched to replies in order. */
class Session {
    closed = false;
    private readonly inflight: Pending[] = [];
    private buffer = "";
    private ioTimer?: NodeJS.Timeout;
    private idleTimer?: NodeJS.Timeout;
    private drained?: () => void;

    /** The process this connection reached (set by `open`). */
    process: ProcessIdentity = { pid: 0 };

    private constructor(
        private readonly connection: Connection,
        private readonly where: string,
        private readonly ioTimeoutMs: number,
        private readonly idleTimeoutMs: number,
    ) {
        const stream = connection.stream;
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => this.receive(chunk));
        stream.on("error", (err) => this.end((c) => `connection failed (${err.message}) before the reply to "${c}"`));
        stream.on("close", () => this.end());
    }

    /** Connects, switches HAProxy to interactive mode (`prompt`, whose reply is empty) and asks which process it is. */
    static async open(endpoint: Endpoint, settings: SessionSettings): Promise<Session> {
        const where = describeEndpoint(endpoint);
        const connection = await openConnection(endpoint, settings.transport);
        const session = new Session(connection, where, settings.ioTimeoutMs, settings.idleTimeoutMs);
        const [prompt, info] = await Promise.all([session.send("prompt"), session.send("show info")]).catch((err) => {
            session.end();
            throw err;
        });
        if (prompt !== "") {
            session.end();
            throw new RuntimeCommandError(classifyReply(prompt), "prompt", where, prompt);
        }
        try {
            session.process = parseProcessInfo(info);
        } catch (err) {
            session.end();
            throw new RuntimeCommandError(classifyReply(info), "show info", where, info);
        }
        return session;
    }

    send(command: string): Promise<string> {
        if (this.closed) {
            return Promise.reject(new RuntimeConnectionError(this.where, `connection closed before "${command}" was sent`));
        }
        return new Promise((resolve, reject) => {
            this.inflight.push({ command, resolve, reject });
            clearTimeout(this.idleTimer);
            if (this.inflight.length === 1) this.armIoTimer();
            this.connection.stream.write(`${command}\n`);
        });
    }

    /** Closes the connection once every unanswered command has its reply (or failed). */
    shutdown(): Promise<void> {
        if (this.inflight.length === 0) {
            this.end();
            return Promise.resolve();
        }
        return new Promise((resolve) => (this.drained = resolve));
    }

    private receive(chunk: string): void {
        const { replies, rest } = splitReplies(this.buffer + chunk);
        this.buffer = rest;
        for (const reply of replies) {
            const head = this.inflight.shift();
            if (!head) return this.end(); // output nobody asked for: resynchronise on a new connection
            head.resolve(reply);
        }
        if (replies.length === 0) return;
        if (this.inflight.length > 0) return this.armIoTimer();
        clearTimeout(this.ioTimer);
        if (this.drained) return this.end();
        this.idleTimer = setTimeout(() => this.end(), this.idleTimeoutMs);
    }

    private armIoTimer(): void {
        clearTimeout(this.ioTimer);
        this.ioTimer = setTimeout(
            () => this.end((c) => `I/O timeout: no reply to "${c}" within ${this.ioTimeoutMs} ms`),
            this.ioTimeoutMs,
        );
    }

    /** Closes the connection and fails every unanswered command with `reason(command)`. */
    end(reason = (command: string) => `connection closed before the reply to "${command}"`): void {
        if (this.closed) return;
        this.closed = true;
        clearTimeout(this.ioTimer);
        clearTimeout(this.idleTimer);
        this.connection.close();
        for (const p of this.inflight.splice(0)) {
            p.reject(new RuntimeConnectionError(this.where, reason(p.command)));
        }
        this.drained?.();
    }
}
