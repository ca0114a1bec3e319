/**
 * Who owns a server: every server line the plugin writes into a servers file ends with its owner,
 * `# owner <stack> <resource>`, a comment HAProxy ignores. The owner is the stack
 * (`<organization>/<project>/<stack>`) and the resource that attached the server, fixed when the
 * resource is created and kept in its state, so an alias (a renamed resource) keeps owning its servers.
 *
 * The servers file on the load balancer's host is the record: a membership claims a server by writing
 * its line (under the host's lock, hostLock.ts) before it adds the server, and releases it by removing
 * the line. A line owned by another stack or resource is never rewritten, drained or removed; a line
 * without an owner (the operator's own, or one written before owners were recorded) is taken over by
 * the membership that attaches a server of that name and address, as before.
 */
import { RuntimeInputError } from "./runtime/validate";

/** The stack and resource that own a server. */
export interface ServerOwner {
    /** `<organization>/<project>/<stack>`, each part URI-encoded. */
    stack: string;
    /** The owning resource's name when it was created, URI-encoded. */
    resource: string;
}

/** One part of an owner: no spaces, no `#`, as `encodeURIComponent` leaves names (plus `/` between stack parts). */
const OWNER_PART = /^[A-Za-z0-9._~!*'()%/-]{1,256}$/;
/** The owner comment; a rollout may add `full-weight <n>` to a stable server's (rollout/stableLines.ts). */
const OWNER_COMMENT = /\s#\s*owner\s+(\S+)\s+(\S+)(?:\s+full-weight\s+\d+)?\s*$/;

/** Validates an owner input; throws RuntimeInputError naming `field`. */
export function validateOwner(field: string, value: unknown): ServerOwner {
    const o = value as Partial<ServerOwner> | undefined;
    for (const part of ["stack", "resource"] as const) {
        if (typeof o?.[part] !== "string" || !OWNER_PART.test(o[part] as string)) {
            throw new RuntimeInputError(`${field}.${part}`, o?.[part], "1 to 256 characters of a URI-encoded name (letters, digits, . _ ~ ! * ' ( ) % / -)");
        }
    }
    return { stack: (o as ServerOwner).stack, resource: (o as ServerOwner).resource };
}

/** The owner of `resource` in the current program's stack. */
export function ownerIn(stack: { organization: string; project: string; stack: string }, resource: string): ServerOwner {
    return { stack: [stack.organization, stack.project, stack.stack].map(encodeURIComponent).join("/"), resource: encodeURIComponent(resource) };
}

/** The comment that ends an owned server line. */
export function ownerComment(owner: ServerOwner): string {
    return `# owner ${owner.stack} ${owner.resource}`;
}

/** The owner a server line records, or `undefined` for a line without one. */
export function ownerOfLine(line: string | undefined): ServerOwner | undefined {
    const found = line === undefined ? null : OWNER_COMMENT.exec(line);
    return found ? { stack: found[1], resource: found[2] } : undefined;
}

export function sameOwner(a: ServerOwner, b: ServerOwner): boolean {
    return a.stack === b.stack && a.resource === b.resource;
}

/** `stack <stack>, resource <resource>` (decoded), for messages. */
export function describeOwner(owner: ServerOwner): string {
    return `stack ${decodeURIComponent(owner.stack)}, resource ${decodeURIComponent(owner.resource)}`;
}

/**
 * Whether a membership owned by `owner` may change or remove the server whose line is `line`: a line
 * without an owner, or one of its own (a membership stored without an owner touches only the former).
 */
export function mayTouch(line: string | undefined, owner: ServerOwner | undefined): boolean {
    const recorded = ownerOfLine(line);
    return recorded === undefined || (owner !== undefined && sameOwner(recorded, owner));
}

/** Raised when a server of that name belongs to another stack or resource: never changed or removed. */
export class ServerOwnedError extends Error {
    readonly name = "ServerOwnedError";
    constructor(where: string, recorded: ServerOwner, claimant: ServerOwner | undefined) {
        super(
            `${where} is owned by ${describeOwner(recorded)} (its line in the servers file says so)` +
                (claimant ? `, not by ${describeOwner(claimant)}` : "") +
                ": it is left alone. Give this stack's servers other names (pool.namePrefix) or another backend, " +
                "or remove the other stack's servers with that stack (docs/OPERATING.md, ownership)",
        );
    }
}
