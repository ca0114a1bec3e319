/**
 * The servers file: what makes a membership durable (docs/OPERATING.md).
 *
 * Servers added with `add server` live only in the running HAProxy process; a reload or restart starts
 * from the configuration files and loses them. So every change the plugin makes at run time is also
 * written into a file that HAProxy loads at every start (`-f <folder>`): the whole backend section,
 * `backend <name> [from <defaults>]`, with one `server` line per managed server, in the admin state the
 * plugin last gave it. HAProxy has no `include` and a section cannot continue in another file, so the
 * file holds the whole section and the backend's settings come from a named `defaults` section in the
 * operator's own configuration.
 *
 * Admin states in the file: `ready` is a plain line; `drain` is `weight 0` (no new sessions, persistent
 * ones still served, as HAProxy's drain state); `maint` adds `disabled`.
 *
 * Each server line the plugin writes ends with its owner (`# owner <stack> <resource>`, ownership.ts),
 * and writers of one file are serialised across processes and stacks by the host's lock (hostLock.ts).
 *
 * The operator may keep a `default-server` line in the section (kept as it is, and compared with the
 * servers' options before any is added) and, when bringing an existing fleet under management, the
 * fleet's own `server` lines (kept as they are until the plugin removes those servers).
 */
import type { HostFiles } from "./runtime/hostFiles";
import { HostLockError, withHostLock } from "./hostLock";
import { ownerComment, type ServerOwner } from "./ownership";
import { formatAddress, parseAddr } from "./runtime/client";
import { serverKeywords, type ServerOptions } from "./serverOptions";
import { validateAddress, validateName, validatePort, validateWeight, type CheckOptions, type ServerState } from "./runtime/validate";

/** One managed server as the file records it. */
export interface ServerLine {
    name: string;
    address: string;
    port: number;
    /** The server's weight when ready; written as 0 while it drains. */
    weight: number;
    check: CheckOptions;
    options: ServerOptions;
    /** The explicit cookie value, where the HAProxy version takes one. @default none */
    cookie?: string;
    state: ServerState;
    /** Who owns the server, written as the line's closing comment (ownership.ts). @default none */
    owner?: ServerOwner;
}

/** What a servers file holds: the operator's settings lines (`default-server`) and the server lines by name. */
export interface ServersFileContent {
    settings: string[];
    servers: Map<string, string>;
}

/** Which backend a servers file holds. */
export interface ServersFileHeader {
    backend: string;
    /** The `defaults` section the backend takes its settings from. @default none (the last unnamed one) */
    backendDefaults?: string;
}

const SERVER_LINE = /^\s+server\s+(\S+)\s+(\S+)/;
const SETTINGS_LINE = /^\s+default-server\s/;
const BACKEND_LINE = /^backend\s+(\S+)(?:\s+from\s+(\S+))?\s*$/;

/** The `server` line of one managed server (validated values only). */
export function renderServerLine(server: ServerLine): string {
    const words = serverKeywords({
        addr: formatAddress(validateAddress("address", server.address), validatePort("port", server.port)),
        weight: server.state === "drain" ? 0 : validateWeight("weight", server.weight),
        check: server.check,
        options: server.options,
        ...(server.cookie === undefined ? {} : { cookie: validateName("cookie", server.cookie) }),
    });
    if (server.state === "maint") words.push("disabled");
    if (server.owner) words.push(ownerComment(server.owner));
    return `    server ${validateName("server", server.name)} ${words.join(" ")}`;
}

/** The address and port a `server` line names; `undefined` for a line without one. */
export function addressOfLine(line: string): { address: string; port: number } | undefined {
    const addr = SERVER_LINE.exec(line)?.[2];
    try {
        return addr === undefined ? undefined : parseAddr(addr);
    } catch {
        return undefined;
    }
}

/** An operator's own `server` line with `weight 0` (drained), everything else as written. */
export function drainedLine(line: string): string {
    return /\sweight\s+\d+/.test(line) ? line.replace(/(\s)weight\s+\d+/, "$1weight 0") : `${line} weight 0`;
}

/** The whole file: header comment, backend line, the operator's settings lines, server lines sorted by name. */
export function renderServersFile(header: ServersFileHeader, servers: ReadonlyMap<string, string>, settings: readonly string[] = []): string {
    const backend = validateName("backend", header.backend);
    const from = header.backendDefaults === undefined ? "" : ` from ${validateName("backendDefaults", header.backendDefaults)}`;
    return [
        `# Backend ${backend} and its servers, managed by haproxy-bluegreen: every change it makes at run time is`,
        "# also written here, so that a reload or restart of HAProxy keeps it. Do not edit by hand, except to keep",
        "# a default-server line, or your own servers for the plugin to adopt (docs/OPERATING.md).",
        `backend ${backend}${from}`,
        ...settings,
        ...[...servers.keys()].sort().map((name) => servers.get(name) as string),
        "",
    ].join("\n");
}

/** Raised when a servers file holds something other than what this plugin writes. */
export class ServersFileError extends Error {
    constructor(path: string, problem: string) {
        super(`servers file ${path}: ${problem}`);
        this.name = "ServersFileError";
    }
}

/** The settings and server lines of a servers file. An absent file has none. */
export function parseServersFile(path: string, text: string | undefined, header: ServersFileHeader): ServersFileContent {
    const servers = new Map<string, string>();
    const settings: string[] = [];
    if (text === undefined) return { settings, servers };
    let backendSeen = false;
    for (const line of text.split("\n")) {
        if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
        const backend = BACKEND_LINE.exec(line);
        if (backend) {
            if (backendSeen || backend[1] !== header.backend) {
                throw new ServersFileError(path, `holds "${line.trim()}", expected only backend ${header.backend}; give each backend a file of its own`);
            }
            backendSeen = true;
            continue;
        }
        const server = SERVER_LINE.exec(line);
        if (backendSeen && SETTINGS_LINE.test(line)) settings.push(line.trimEnd());
        else if (server && backendSeen) servers.set(server[1], line.trimEnd());
        else throw new ServersFileError(path, `unexpected line "${line.trim()}": only the backend line, default-server and server lines belong here`);
    }
    return { settings, servers };
}

/** Reads under way, by file: memberships that look at one file at once (every diff of a preview) share one read. */
const reads = new Map<string, Promise<ServersFileContent>>();

/** The settings and server lines of the file (`key` names host and path), from the read under way or a new one. */
export function readServersFile(files: HostFiles, key: string, path: string, header: ServersFileHeader): Promise<ServersFileContent> {
    let read = reads.get(key);
    if (!read) {
        read = files
            .read(path)
            .then((text) => parseServersFile(path, text, header))
            .finally(() => reads.delete(key));
        reads.set(key, read);
    }
    return read;
}

/** Per file (`key`), the chain of writes in this process, and the changes waiting for the next write. */
const queues = new Map<string, Promise<unknown>>();
type QueuedChange = { apply: (servers: Map<string, string>) => void; error?: unknown };
const waiting = new Map<string, { changes: QueuedChange[]; written: Promise<void> }>();

/**
 * Reads the file, lets `change` edit its server lines, and writes it back atomically if anything
 * changed, holding the file's lock on its host (hostLock.ts). Writes to one file (`key` names host and
 * path) are serialised in this process too, and the changes that arrive
 * while one is under way go into the next write together: a generation of 100 servers attaching costs
 * a few rewrites of each load balancer's file, not one per server and state.
 */
export function updateServersFile(
    files: HostFiles,
    key: string,
    path: string,
    header: ServersFileHeader,
    change: (servers: Map<string, string>) => void,
): Promise<void> {
    let next = waiting.get(key);
    if (!next) {
        const changes: QueuedChange[] = [];
        const previous = queues.get(key) ?? Promise.resolve();
        const written = previous
            .catch(() => undefined)
            .then(async () => {
                waiting.delete(key); // changes from now on wait for the write after this one
                await withHostLock(files, path, async (leaseEnd) => {
                    const text = await files.read(path);
                    const { settings, servers } = parseServersFile(path, text, header);
                    for (const queued of changes) {
                        try {
                            queued.apply(servers);
                        } catch (err) {
                            queued.error = err; // fails its own caller only
                        }
                    }
                    const rendered = renderServersFile(header, servers, settings);
                    if (rendered === text) return;
                    if (Date.now() >= leaseEnd) throw new HostLockError(`the lock of ${path} expired before its write; nothing was written`);
                    await files.replace(path, rendered);
                });
            });
        next = { changes, written };
        waiting.set(key, next);
        queues.set(key, written);
        void written.finally(() => queues.get(key) === written && queues.delete(key)).catch(() => undefined);
    }
    const queued: QueuedChange = { apply: change };
    next.changes.push(queued);
    return next.written.then(() => {
        if (queued.error !== undefined) throw queued.error;
    });
}
