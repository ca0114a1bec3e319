/**
 * HAProxy's Runtime API error replies: which ones the plugin knows, their codes, and the error raised
 * when a command is answered with anything but its success text.
 */

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
