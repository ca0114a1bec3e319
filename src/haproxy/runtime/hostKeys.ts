/**
 * Which SSH host key a host may present: its known_hosts entries, else a pinned fingerprint, else
 * nothing unless unknown keys are explicitly allowed (docs/SSH.md).
 */
import { blobKeyType, keysForHost, knownHostName, parseKnownHosts, sshFingerprint } from "./knownHosts";
import type { SshCredentials } from "./transport";
import { RuntimeInputError } from "./validate";

/** How a host's key is checked: the host key algorithms to offer (undefined: ssh2's defaults) and the check. */
export interface HostKeyPolicy {
    algorithms?: string[];
    /** Undefined to accept the raw host key blob, or the reason it is refused. */
    check(hostKey: Buffer): string | undefined;
}

/** SSH host key algorithms that can present a key of each known_hosts key type. */
const ALGORITHMS_OF: Record<string, string[]> = { "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] };

/**
 * The host key rule for `host:port` (exported for tests): the host's `knownHosts` entries if it has
 * any (only their key types are offered, so the server presents a listed key), else
 * `hostKeySha256`, else accept if `allowUnknownHostKey`, else refuse naming the config keys to set.
 */
export function hostKeyPolicy(host: string, port: number, credentials: SshCredentials): HostKeyPolicy {
    const name = knownHostName(host, port);
    const listed = credentials.knownHosts === undefined ? [] : keysForHost(parseKnownHosts(credentials.knownHosts), host, port);
    const presented = (hostKey: Buffer) => `${sshFingerprint(hostKey)} (${blobKeyType(hostKey) ?? "unknown type"})`;
    if (listed.length > 0) {
        const expected = listed.map((k) => k.fingerprint);
        return {
            algorithms: [...new Set(listed.flatMap((k) => ALGORITHMS_OF[k.keyType] ?? [k.keyType]))],
            check: (hostKey) =>
                expected.includes(sshFingerprint(hostKey))
                    ? undefined
                    : `host key ${presented(hostKey)} of ${name} does not match its sshKnownHosts entries (${expected.join(", ")})`,
        };
    }
    const fingerprint = credentials.hostKeySha256;
    if (fingerprint !== undefined) {
        return {
            check: (hostKey) =>
                sshFingerprint(hostKey) === fingerprint ? undefined : `host key ${sshFingerprint(hostKey)} does not match hostKeySha256 ${fingerprint}`,
        };
    }
    if (credentials.allowUnknownHostKey === true) return { check: () => undefined };
    const keyscan = `ssh-keyscan ${port === 22 ? "" : `-p ${port} `}${host}`;
    return {
        check: (hostKey) =>
            `host key ${presented(hostKey)} of ${name} is unknown: set the load balancer's sshHostKeySha256 ` +
            `(haproxy.loadBalancers[].sshHostKeySha256, or sshHostKeySha256 for every host), or add the output of ` +
            `\`${keyscan}\` to sshKnownHosts; sshAllowUnknownHostKeys: true connects to unknown hosts unverified`,
    };
}

/** Accepts `SHA256:<base64>` or bare base64 (43 characters, optional `=`) and returns `SHA256:<base64>`. */
export function normaliseFingerprint(value: string): string {
    const m = /^(?:SHA256:)?([A-Za-z0-9+/]{43})=?$/.exec(value);
    if (!m) {
        throw new RuntimeInputError("ssh.hostKeySha256", value, "an OpenSSH SHA256 fingerprint such as SHA256:<43 base64 characters>");
    }
    return `SHA256:${m[1]}`;
}
