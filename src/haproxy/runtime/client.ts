/**
 * HAProxy Runtime API client: one persistent interactive-mode connection per client (session.ts),
 * commands queued and pipelined on it, one short method per verb.
 */
import { describeEndpoint, parseEndpoint, type Endpoint } from "./endpoint";
import {
    describeProcess,
    findStatRow,
    parseServersState,
    parseShowStat,
    parseTunnels,
    RuntimeFormatError,
    type ProcessIdentity,
    type ServerStateRow,
    type StatRow,
} from "./parsers";
import { classifyReply, RuntimeCommandError } from "./replies";
import { Session, type SessionSettings } from "./session";
import { serverKeywords, validateServerOptions, type ServerOptions } from "../serverOptions";
import { resolveTransportOptions, type TransportOptions } from "./transport";
import {
    RuntimeInputError,
    validateAddress,
    validateCheck,
    validateInteger,
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

export { classifyReply, RuntimeCommandError, type RuntimeErrorCode } from "./replies";


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

/** The address and port of an `addr` as `show stat` prints it (`10.0.0.1:8080`, `[::1]:8080`). Exported for testing. */
export function parseAddr(addr: string): { address: string; port: number } {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(addr);
    if (!m) throw new RuntimeFormatError(`an address:port, got ${JSON.stringify(addr.slice(0, 80))}`);
    return { address: m[1], port: Number(m[2]) };
}

/** Settings of a server added with `addServer`. */
export interface AddServerOptions {
    /** IPv4, IPv6 (no brackets) or DNS name (resolved only with a `resolvers` section). */
    address: string;
    /** 1..65535 */
    port: number;
    /** 0..256. @default HAProxy's 1 */
    weight?: number;
    /** Health check; its timings are sent only when `enabled`. @default no check */
    check?: CheckOptions;
    /** TLS, limits and the rest of what the operator's server lines say. @default none */
    options?: ServerOptions;
    /** An explicit cookie value (HAProxy 3.0 and later). @default none */
    cookie?: string;
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
    private readonly previous: { session: Session; process: PreviousProcess }[] = [];

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
        for (const old of this.previous.splice(0)) old.session.end();
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

    /** The process the client last talked to, if it has talked to one. */
    get lastProcess(): ProcessIdentity | undefined {
        return this.live?.process;
    }

    /** Replaced processes still reachable through a connection opened before their replacement. */
    previousProcesses(): PreviousProcess[] {
        for (let i = this.previous.length - 1; i >= 0; i--) if (this.previous[i].session.closed) this.previous.splice(i, 1);
        return this.previous.map((old) => old.process);
    }

    private async reconnect(): Promise<ProcessIdentity> {
        const before = this.live ?? (await this.opening?.catch(() => undefined));
        const fresh = await Session.open(this.endpoint, this.settings);
        this.live = fresh;
        if (before && !before.closed) {
            if (describeProcess(before.process) === describeProcess(fresh.process)) void before.shutdown();
            else this.previous.push({ session: before, process: previousProcess(before) });
        }
        return fresh.process;
    }

    /**
     * `add server <backend>/<server> <address>:<port> [weight W] [options] [check ...] [cookie C]`; the
     * server starts in MAINT. Options are formatted by `serverKeywords`, as in the servers file.
     */
    async addServer(backend: string, server: string, options: AddServerOptions): Promise<void> {
        const o = validateKeys("options", options, ["address", "port", "weight", "check", "options", "cookie"]);
        const words = serverKeywords({
            addr: formatAddress(validateAddress("address", o.address), validatePort("port", o.port)),
            ...(o.weight === undefined ? {} : { weight: validateWeight("weight", o.weight) }),
            check: o.check === undefined ? { enabled: false } : validateCheck("check", o.check),
            options: validateServerOptions("options", o.options),
            ...(o.cookie === undefined ? {} : { cookie: validateName("cookie", o.cookie) }),
        });
        await this.expect(`add server ${target(backend, server)} ${words.join(" ")}`, "New server registered.");
    }

    /**
     * `enable dynamic-cookie backend <backend>`: gives every server of the backend without a cookie of its
     * own the backend's dynamic cookie (needs `dynamic-cookie-key`; without one, nothing changes).
     */
    async enableDynamicCookie(backend: string): Promise<void> {
        await this.expect(`enable dynamic-cookie backend ${validateName("backend", backend)}`, "");
    }

    /** `enable health <backend>/<server>` (the server must have been added with a check). */
    async enableHealth(backend: string, server: string): Promise<void> {
        await this.expect(`enable health ${target(backend, server)}`, "");
    }

    /** `disable health <backend>/<server>` */
    async disableHealth(backend: string, server: string): Promise<void> {
        await this.expect(`disable health ${target(backend, server)}`, "");
    }

    /** `enable agent <backend>/<server>`: the agent check again changes the server's state and weight. */
    async enableAgent(backend: string, server: string): Promise<void> {
        await this.expect(`enable agent ${target(backend, server)}`, "");
    }

    /** `disable agent <backend>/<server>`: the agent check is stopped, so its answers (`ready`, weights) no longer apply. */
    async disableAgent(backend: string, server: string): Promise<void> {
        await this.expect(`disable agent ${target(backend, server)}`, "");
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

    /**
     * `show sess all`, read for the streams of one server that are tunnels (WebSocket, CONNECT): their ids,
     * for `shutdownSession`. The full dump is long on a busy load balancer: ask only when needed.
     */
    async tunnelsOf(backend: string, server: string): Promise<string[]> {
        const [b, s] = [validateName("backend", backend), validateName("server", server)];
        return parseTunnels(await this.execute("show sess all"), b, s);
    }

    /** `shutdown session <id>`: ends one stream (an id from `tunnelsOf`); one already gone is no error. */
    async shutdownSession(id: string): Promise<void> {
        if (!/^0x[0-9a-f]{1,16}$/.test(id)) throw new RuntimeInputError("id", id, "a stream id as `show sess` prints it (0x and hex digits)");
        const command = `shutdown session ${id}`;
        const reply = (await this.execute(command)).trim();
        if (reply !== "" && !reply.startsWith("No such session")) throw new RuntimeCommandError(classifyReply(reply), command, this.where, reply);
    }

    /**
     * `wait <ms> srv-removable <backend>/<server>` (HAProxy 3.0 and later): waits until `del server`
     * can succeed. True when it can ("Done."), false when `ms` passed first ("Wait delay expired.") or
     * the server is not there ("Failed."). Keep `ms` below the client's I/O timeout.
     */
    async waitRemovable(backend: string, server: string, ms: number): Promise<boolean> {
        const command = `wait ${validateInteger("ms", ms, 1, 60_000)} srv-removable ${target(backend, server)}`;
        const reply = (await this.execute(command)).trim();
        if (reply === "Done.") return true;
        if (reply === "Wait delay expired." || reply === "Failed.") return false;
        throw new RuntimeCommandError(classifyReply(reply), command, this.where, reply);
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

/** A replaced process, read through the connection that was opened to it before its replacement. */
function previousProcess(session: Session): PreviousProcess {
    return {
        process: session.process,
        showStat: (backend: string) => session.send(`show stat ${validateName("backend", backend)} -1 -1`).then((reply) => parseShowStat(reply)),
        release: () => session.end(),
    };
}

/** `<backend>/<server>` from validated names. */
function target(backend: string, server: string): string {
    return `${validateName("backend", backend)}/${validateName("server", server)}`;
}
