/**
 * OpenSSH known_hosts text: parsing, looking up the keys of one host, and checking a presented host key.
 * Pure: exported for tests and for the stack config check.
 *
 * Supported: lines `host[,host2...] keytype base64key [comment]` as `ssh-keyscan` prints them, host
 * names as `host` (port 22) or `[host]:port`, hashed names (`|1|salt|hash`, `ssh-keygen -H`), comments
 * and blank lines. Refused with the line number: wildcard or negated patterns (`*`, `?`, `!`) and the
 * `@cert-authority` / `@revoked` markers, which this plugin does not implement.
 */
import { createHash, createHmac } from "node:crypto";
import { RuntimeInputError } from "./validate";

/** Host key types accepted in known_hosts lines. */
export const KNOWN_HOST_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"] as const;

/** One key of a known_hosts line. */
export interface KnownHostKey {
    /** 1-based line number in the text, for messages. */
    line: number;
    /** The host names of the line: plain (`host`, `[host]:port`) or hashed (`|1|salt|hash`). */
    hosts: string[];
    /** e.g. `ssh-ed25519` */
    keyType: string;
    /** The public key blob, base64 as in the line. */
    keyBase64: string;
    /** `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
    fingerprint: string;
}

/** The OpenSSH `SHA256:<base64 without padding>` fingerprint of a raw public key blob. */
export function sshFingerprint(blob: Buffer): string {
    return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type written at the start of a public key blob (an SSH string), or undefined if there is none. */
export function blobKeyType(blob: Buffer): string | undefined {
    if (blob.length < 4) return undefined;
    const length = blob.readUInt32BE(0);
    if (length === 0 || length > 64 || 4 + length > blob.length) return undefined;
    return blob.subarray(4, 4 + length).toString("latin1");
}

const HASHED = /^\|1\|([A-Za-z0-9+/]+=*)\|([A-Za-z0-9+/]+=*)$/;
const PLAIN_HOST = /^(\[[A-Za-z0-9.:_-]+\]:\d{1,5}|[A-Za-z0-9.:_-]+)$/;
const LINE_FORM = "`host[,host2] keytype base64key` as ssh-keyscan prints it";

/** The key of one line, `undefined` for a blank or comment line, or the reason the line is refused. */
function parseLine(text: string, line: number): KnownHostKey | undefined | string {
    const trimmed = text.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return undefined;
    if (trimmed.startsWith("@")) {
        return "markers (@cert-authority, @revoked) are not supported; list the host keys themselves";
    }
    const [hostField, keyType, keyBase64] = trimmed.split(/\s+/);
    if (keyBase64 === undefined) return LINE_FORM;
    const hosts = hostField.split(",");
    for (const host of hosts) {
        if (/[*?!]/.test(host)) return `host pattern "${host}": wildcard and negated patterns are not supported; list each host`;
        if (host.startsWith("|") ? !HASHED.test(host) : !PLAIN_HOST.test(host)) {
            return `host "${host}": expected a host name, an address, [host]:port or a hashed |1|salt|hash`;
        }
    }
    if (!(KNOWN_HOST_KEY_TYPES as readonly string[]).includes(keyType)) {
        return `key type "${keyType}": expected one of ${KNOWN_HOST_KEY_TYPES.join(", ")}`;
    }
    const blob = /^[A-Za-z0-9+/]+=*$/.test(keyBase64) ? Buffer.from(keyBase64, "base64") : Buffer.alloc(0);
    if (blobKeyType(blob) !== keyType) return `the key is not a base64 ${keyType} public key`;
    return { line, hosts, keyType, keyBase64, fingerprint: sshFingerprint(blob) };
}

/** Every problem of a known_hosts text, one `line N: reason` each; empty when it is usable. */
export function knownHostsProblems(text: string): string[] {
    return text.split("\n").flatMap((content, i) => {
        const parsed = parseLine(content, i + 1);
        return typeof parsed === "string" ? [`line ${i + 1}: ${parsed}`] : [];
    });
}

/** The keys of a known_hosts text; throws RuntimeInputError naming `field` and the first bad line. */
export function parseKnownHosts(text: string, field = "ssh.knownHosts"): KnownHostKey[] {
    const lines = text.split("\n");
    return lines.flatMap((content, i) => {
        const parsed = parseLine(content, i + 1);
        if (typeof parsed === "string") throw new RuntimeInputError(`${field} line ${i + 1}`, content.trim(), `${LINE_FORM} (${parsed})`);
        return parsed ? [parsed] : [];
    });
}

/** The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` on any other. */
export function knownHostName(host: string, port: number): string {
    return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether a known_hosts host name (plain or hashed) names `name`; plain names compare case-insensitively. */
function namesHost(entry: string, name: string): boolean {
    const hashed = HASHED.exec(entry);
    if (!hashed) return entry.toLowerCase() === name.toLowerCase();
    const digest = createHmac("sha1", Buffer.from(hashed[1], "base64")).update(name.toLowerCase()).digest();
    return digest.equals(Buffer.from(hashed[2], "base64"));
}

/** The keys listed for `host` on `port`, in the order of the text. */
export function keysForHost(keys: KnownHostKey[], host: string, port: number): KnownHostKey[] {
    const name = knownHostName(host, port);
    return keys.filter((key) => key.hosts.some((entry) => namesHost(entry, name)));
}

/**
 * Host key algorithms the Go SSH client (golang.org/x/crypto/ssh, used by @pulumi/command) prefers, most
 * preferred first: a server with several host keys presents the first of these it has.
 */
const GO_CLIENT_PREFERENCE = ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-ed25519"];

/**
 * The host key of `host` (port 22) in the form `@pulumi/command`'s `connection.hostKey` takes
 * (`keytype base64key`, as in a `.pub` file), or undefined if `knownHosts` does not list the host.
 * With several keys for the host, the one whose type the Go SSH client negotiates first is pinned.
 */
export function pinnedHostKey(knownHosts: string, host: string): string | undefined {
    const rank = (key: KnownHostKey) => GO_CLIENT_PREFERENCE.indexOf(key.keyType);
    const [key] = keysForHost(parseKnownHosts(knownHosts), host, 22).sort((a, b) => rank(a) - rank(b));
    return key && `${key.keyType} ${key.keyBase64}`;
}
