/**
 * What differs between the HAProxy versions the plugin supports (2.6 to 3.2), in one place. The
 * version comes from `show info` of the process that answers (`ProcessIdentity.version`).
 * Sources: HAProxy's `doc/management.txt` and `src/server.c` at each release tag (../shared/HAPROXY.md).
 */

/** Major and minor of an HAProxy version string such as `2.6.12-1+deb12u1` or `3.2.26`. */
export interface HaproxyVersion {
    major: number;
    minor: number;
}

/** Parses `major.minor` from a version string; `undefined` if it has none. */
export function parseVersion(text: string | undefined): HaproxyVersion | undefined {
    const m = /^(\d+)\.(\d+)/.exec(text ?? "");
    return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

function atLeast(v: HaproxyVersion | undefined, major: number, minor: number): boolean {
    return v !== undefined && (v.major > major || (v.major === major && v.minor >= minor));
}

/**
 * Whether `add server` takes `cookie <value>`: from 3.0 on. 2.6 refuses it ("'cookie' option is not
 * accepted for dynamic server"); there, a server added at run time gets the backend's dynamic cookie.
 * An unknown version is taken as the oldest supported.
 */
export function acceptsCookieOnAddServer(version: string | undefined): boolean {
    return atLeast(parseVersion(version), 3, 0);
}

/**
 * Whether the Runtime API has `wait <ms> srv-removable <backend>/<server>`: from 3.0 on. 2.6 answers
 * "Unknown command". An unknown version is taken as the oldest supported.
 */
export function hasWaitSrvRemovable(version: string | undefined): boolean {
    return atLeast(parseVersion(version), 3, 0);
}
