/**
 * One interactive-mode connection to a Runtime API: opened with `prompt` and `show info` (which process
 * answered), commands pipelined on it and matched to replies in order, an I/O timeout while a reply is
 * due and an idle timeout after the last one.
 */
import { describeEndpoint, type Endpoint } from "./endpoint";
import { parseProcessInfo, splitReplies, type ProcessIdentity } from "./parsers";
import { classifyReply, RuntimeCommandError } from "./replies";
import { openConnection, RuntimeConnectionError, type Connection, type TransportOptions } from "./transport";

/** Resolved options of a `Session`. */
export interface SessionSettings {
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
export class Session {
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
