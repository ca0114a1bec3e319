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
 */
import type { HostFiles } from "./hostFiles";
import { formatAddress } from "./client";
import { validateAddress, validateCheck, validateName, validatePort, validateWeight, type CheckOptions, type ServerState } from "./validate";

/** One managed server as the file records it. */
export interface ServerLine {
    name: string;
    address: string;
    port: number;
    /** The server's weight when ready; written as 0 while it drains. */
    weight: number;
    check: CheckOptions;
    state: ServerState;
}

/** Which backend a servers file holds. */
export interface ServersFileHeader {
    backend: string;
    /** The `defaults` section the backend takes its settings from. @default none (the last unnamed one) */
    backendDefaults?: string;
}

const SERVER_LINE = /^\s+server\s+(\S+)\s/;
const BACKEND_LINE = /^backend\s+(\S+)(?:\s+from\s+(\S+))?\s*$/;

/** The `server` line of one managed server (validated values only). */
export function renderServerLine(server: ServerLine): string {
    const words = [
        "server",
        validateName("server", server.name),
        formatAddress(validateAddress("address", server.address), validatePort("port", server.port)),
        `weight ${server.state === "drain" ? 0 : validateWeight("weight", server.weight)}`,
    ];
    const check = validateCheck("check", server.check);
    if (check.enabled) {
        words.push("check");
        if (check.inter !== undefined) words.push(`inter ${check.inter}`);
        if (check.rise !== undefined) words.push(`rise ${check.rise}`);
        if (check.fall !== undefined) words.push(`fall ${check.fall}`);
    }
    if (server.state === "maint") words.push("disabled");
    return `    ${words.join(" ")}`;
}

/** The whole file: header comment, backend line, server lines sorted by name. */
export function renderServersFile(header: ServersFileHeader, servers: ReadonlyMap<string, string>): string {
    const backend = validateName("backend", header.backend);
    const from = header.backendDefaults === undefined ? "" : ` from ${validateName("backendDefaults", header.backendDefaults)}`;
    return [
        `# Backend ${backend} and its servers, managed by haproxy-bluegreen: every change it makes at run time is`,
        "# also written here, so that a reload or restart of HAProxy keeps it. Do not edit by hand.",
        `backend ${backend}${from}`,
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

/** The server lines of a servers file, by server name. An absent file has none. */
export function parseServersFile(path: string, text: string | undefined, header: ServersFileHeader): Map<string, string> {
    const servers = new Map<string, string>();
    if (text === undefined) return servers;
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
        if (!server || !backendSeen) throw new ServersFileError(path, `unexpected line "${line.trim()}": this file is written by haproxy-bluegreen only`);
        servers.set(server[1], line.trimEnd());
    }
    return servers;
}

/** Reads under way, by file: memberships that look at one file at once (every diff of a preview) share one read. */
const reads = new Map<string, Promise<Map<string, string>>>();

/** The server lines of the file (`key` names host and path), from the read under way or a new one. */
export function readServersFile(files: HostFiles, key: string, path: string, header: ServersFileHeader): Promise<Map<string, string>> {
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

/** One change at a time per file in this process: every membership of a backend rewrites the same file. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Reads the file, lets `change` edit its server lines, and writes it back atomically if anything
 * changed. Changes to one file (`key` names host and path) are serialised.
 */
export function updateServersFile(
    files: HostFiles,
    key: string,
    path: string,
    header: ServersFileHeader,
    change: (servers: Map<string, string>) => void,
): Promise<void> {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous
        .catch(() => undefined)
        .then(async () => {
            const text = await files.read(path);
            const servers = parseServersFile(path, text, header);
            change(servers);
            const rendered = renderServersFile(header, servers);
            if (rendered !== text) await files.replace(path, rendered);
        });
    queues.set(key, next);
    void next.finally(() => queues.get(key) === next && queues.delete(key)).catch(() => undefined);
    return next;
}
