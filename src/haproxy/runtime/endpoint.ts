/**
 * Where an HAProxy Runtime API socket is reached: parsing and describing endpoint URLs.
 */
import { isIPv6 } from "node:net";
import { RuntimeInputError, validateAddress, validatePort } from "./validate";

/** A parsed Runtime API endpoint. */
export type Endpoint =
    | { kind: "unix"; path: string }
    | { kind: "tcp"; host: string; port: number }
    | { kind: "ssh"; username: string; host: string; port: number; socketPath: string };

/** The accepted URL forms, quoted in every parse error. */
export const ENDPOINT_FORMS = "unix:///path/admin.sock, tcp://host:port or ssh://user@host[:port]/path/admin.sock";

/** SSH port used when an `ssh://` URL has none. */
export const DEFAULT_SSH_PORT = 22;

/** Longest UNIX socket path Linux accepts (`sun_path` is 108 bytes including the final NUL). */
const MAX_SOCKET_PATH = 107;

const SOCKET_PATH = /^\/[A-Za-z0-9_.@+\/-]*$/;
const USERNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
const UNIX_URL = /^unix:\/\/(\/.*)$/s;
const TCP_URL = /^tcp:\/\/(\[[^\]]*\]|[^:/@]*):([^/@]*)$/s;
const SSH_URL = /^ssh:\/\/([^@/]*)@(\[[^\]]*\]|[^:/@]*)(?::([^/@]*))?(\/.*)$/s;

/**
 * Parses `unix:///path/admin.sock`, `tcp://host:port` or `ssh://user@host[:port]/path/admin.sock`
 * (SSH port defaults to 22). Throws `RuntimeInputError` naming `field` and the allowed forms.
 * A password in the URL is refused and never echoed.
 */
export function parseEndpoint(url: string, field = "endpoint"): Endpoint {
    if (typeof url !== "string") {
        throw new RuntimeInputError(field, url, ENDPOINT_FORMS);
    }
    const shown = redactPassword(url);
    const unix = UNIX_URL.exec(url);
    if (unix) {
        return { kind: "unix", path: socketPath(field, unix[1]) };
    }
    const tcp = TCP_URL.exec(url);
    if (tcp) {
        return { kind: "tcp", host: host(field, tcp[1]), port: port(field, tcp[2]) };
    }
    const ssh = SSH_URL.exec(url);
    if (ssh) {
        if (ssh[1].includes(":")) {
            throw new RuntimeInputError(field, shown, "no password in the URL; pass SSH credentials separately");
        }
        if (!USERNAME.test(ssh[1])) {
            throw new RuntimeInputError(`${field} user`, ssh[1], "1 to 32 letters, digits, '_', '.' or '-'");
        }
        return {
            kind: "ssh",
            username: ssh[1],
            host: host(field, ssh[2]),
            port: ssh[3] === undefined ? DEFAULT_SSH_PORT : port(field, ssh[3]),
            socketPath: socketPath(field, ssh[4]),
        };
    }
    throw new RuntimeInputError(field, shown, ENDPOINT_FORMS);
}

/** The endpoint as a URL for messages; it never carries credentials. */
export function describeEndpoint(e: Endpoint): string {
    switch (e.kind) {
        case "unix":
            return `unix://${e.path}`;
        case "tcp":
            return `tcp://${hostPart(e.host)}:${e.port}`;
        case "ssh":
            return `ssh://${e.username}@${hostPart(e.host)}:${e.port}${e.socketPath}`;
    }
}

/** Replaces the password of a `scheme://user:password@` URL with `***`. */
export function redactPassword(url: string): string {
    return url.replace(/^([a-z]+:\/\/[^@/:]*):[^@/]*@/, "$1:***@");
}

function socketPath(field: string, path: string): string {
    if (!SOCKET_PATH.test(path) || path.length > MAX_SOCKET_PATH || path.endsWith("/")) {
        throw new RuntimeInputError(
            `${field} socket path`,
            path,
            `an absolute path of at most ${MAX_SOCKET_PATH} letters, digits, '/', '_', '.', '@', '+' or '-'`,
        );
    }
    return path;
}

function host(field: string, text: string): string {
    const bracketed = /^\[(.*)\]$/.exec(text);
    if (bracketed && !isIPv6(bracketed[1])) {
        throw new RuntimeInputError(`${field} host`, text, "an IPv6 address inside [ ]");
    }
    return validateAddress(`${field} host`, bracketed ? bracketed[1] : text);
}

function port(field: string, text: string): number {
    return validatePort(`${field} port`, /^\d{1,5}$/.test(text) ? Number(text) : text);
}

function hostPart(host: string): string {
    return host.includes(":") ? `[${host}]` : host;
}
