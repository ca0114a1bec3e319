/**
 * Files on a load balancer's host: the servers file that makes a membership survive HAProxy reloads
 * and restarts. `unix://` endpoints are on this machine (plain file system); `ssh://` endpoints are
 * reached over SFTP on the same SSH connection as their Runtime API; `tcp://` endpoints cannot reach
 * the host's file system at all.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { SFTPWrapper, Stats } from "ssh2";
import { describeEndpoint, type Endpoint } from "./endpoint";
import { openSftp, RuntimeConnectionError, type SftpSession, type SshEndpoint, type TransportOptions } from "./transport";
import { RuntimeInputError } from "./validate";

/** Reading and atomically replacing files on one host. */
export interface HostFiles {
    /** The file's text, or `undefined` if it does not exist. */
    read(path: string): Promise<string | undefined>;
    /**
     * Replaces the file with `text` atomically: written to a temporary file in the same folder, then
     * renamed over it, so HAProxy never reads a half-written file. Creates the folder if missing.
     */
    replace(path: string, text: string): Promise<void>;
    /**
     * Creates the file with `text` unless it exists, atomically (a temporary file hard-linked to `path`):
     * no reader ever sees it empty. Returns whether it was created. Creates the folder if missing.
     */
    createExclusive(path: string, text: string): Promise<boolean>;
    /** Removes the file; a missing one is fine. */
    remove(path: string): Promise<void>;
}

/** A temporary file's name beside `path`. */
const temporaryFor = (path: string) => `${path}.${randomBytes(4).toString("hex")}.tmp`;

/** Absolute path of letters, digits and `_ . @ + / -`: it is written into messages and HAProxy's -f lists. */
const FILE_PATH = /^(\/[A-Za-z0-9_.@+-]+)+$/;

/** A servers-file path: absolute, normalized, safe characters; throws naming `field`. */
export function validateHostPath(field: string, value: unknown): string {
    if (typeof value !== "string" || !FILE_PATH.test(value) || value.split("/").some((part) => part === "." || part === "..")) {
        throw new RuntimeInputError(field, value, "an absolute path of letters, digits, '_', '.', '@', '+', '/' or '-' (no '.' or '..' parts)");
    }
    return value;
}

/**
 * Writes `text` (mode 0644) to a temporary file beside `path`, creating the folder if missing, and
 * lets `commit` put it in place (rename, hard link); the temporary file is gone afterwards.
 */
async function fromTemporary<T>(path: string, text: string, commit: (temporary: string) => Promise<T>): Promise<T> {
    await mkdir(dirname(path), { recursive: true });
    const temporary = temporaryFor(path);
    try {
        await writeFile(temporary, text, { mode: 0o644 });
        return await commit(temporary);
    } finally {
        await rm(temporary, { force: true });
    }
}

/** Local files (the host of a `unix://` endpoint is this machine). */
export const localFiles: HostFiles = {
    async read(path) {
        try {
            return await readFile(path, "utf8");
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
            throw err;
        }
    },
    replace(path, text) {
        return fromTemporary(path, text, (temporary) => rename(temporary, path));
    },
    createExclusive(path, text) {
        return fromTemporary(path, text, (temporary) =>
            link(temporary, path).then(
                () => true,
                (err: NodeJS.ErrnoException) => {
                    if (err.code === "EEXIST") return false;
                    throw err;
                },
            ),
        );
    },
    async remove(path) {
        await rm(path, { force: true });
    },
};

/** Longest time one read or replace over SFTP may take once its SFTP session is open. */
export const SFTP_TIMEOUT_MS = 10_000;

/** The SSH host refused a file operation (permissions, a full disk): trying again does not help. */
export class HostFileError extends Error {
    constructor(
        public readonly endpoint: string,
        reason: string,
    ) {
        super(`${endpoint}: ${reason}`);
        this.name = "HostFileError";
    }
}

/** SFTP status code of a missing file (`SSH_FX_NO_SUCH_FILE`). */
const NO_SUCH_FILE = 2;

const isMissing = (err: unknown) => (err as { code?: unknown }).code === NO_SUCH_FILE;

/** An SFTP status reply carries a numeric code; errors without one come from the connection. */
const isStatusError = (err: unknown) => typeof (err as { code?: unknown }).code === "number";

/** `fn(callback)` as a promise. */
function call<T = void>(fn: (callback: (err: Error | undefined | null, value: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/** Creates `folder` and its missing parents, mode 0755; an existing folder is fine. */
async function makeFolders(sftp: SFTPWrapper, folder: string): Promise<void> {
    try {
        await call<Stats>((cb) => sftp.stat(folder, cb));
        return;
    } catch (err) {
        if (!isMissing(err)) throw err;
    }
    await makeFolders(sftp, dirname(folder));
    try {
        await call((cb) => sftp.mkdir(folder, { mode: 0o755 }, cb));
    } catch (err) {
        // Created meanwhile by someone else: fine if it is a folder now.
        const stats = await call<Stats>((cb) => sftp.stat(folder, cb)).catch(() => undefined);
        if (!stats?.isDirectory()) throw err;
    }
}

/** Writes `text` to the new file `temporary` (mode 0644) and flushes it to disk. */
async function writeNewFile(sftp: SFTPWrapper, temporary: string, text: string): Promise<void> {
    const handle = await call<Buffer>((cb) => sftp.open(temporary, "wx", 0o644, cb));
    try {
        const data = Buffer.from(text, "utf8");
        await call((cb) => sftp.write(handle, data, 0, data.length, 0, (err) => cb(err, undefined)));
        // The mode given to open() is subject to the server's umask.
        await call((cb) => sftp.fchmod(handle, 0o644, cb));
        await call((cb) => sftp.ext_openssh_fsync(handle, (err) => cb(err, undefined)));
    } finally {
        await call((cb) => sftp.close(handle, cb));
    }
}

/**
 * Files on an `ssh://` endpoint's host over SFTP, on the pooled SSH connection of its Runtime API.
 * A connection problem is a RuntimeConnectionError; an operation the server refused (an SFTP status
 * other than a missing file where that is expected) is a HostFileError. Each operation gets
 * `SFTP_TIMEOUT_MS` once its session is open; at the timeout the connection is dropped.
 */
function sshFiles(endpoint: SshEndpoint, options: TransportOptions): HostFiles {
    const where = describeEndpoint(endpoint);
    async function withSftp<T>(what: string, task: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
        const session: SftpSession = await openSftp(endpoint, options);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
                session.discard();
                reject(new RuntimeConnectionError(where, `${what} timed out after ${SFTP_TIMEOUT_MS} ms`));
            }, SFTP_TIMEOUT_MS);
        });
        try {
            return await Promise.race([
                task(session.sftp).catch((err: Error) => {
                    const reason = `${what}: ${err.message}`;
                    throw isStatusError(err) ? new HostFileError(where, reason) : new RuntimeConnectionError(where, reason);
                }),
                timeout,
            ]);
        } finally {
            clearTimeout(timer);
            session.close();
        }
    }
    return {
        read(path) {
            validateHostPath("path", path);
            return withSftp(`cannot read ${path} over SFTP`, async (sftp) => {
                try {
                    return await call<Buffer>((cb) => sftp.readFile(path, cb)).then((data) => data.toString("utf8"));
                } catch (err) {
                    if (isMissing(err)) return undefined;
                    throw err;
                }
            });
        },
        replace(path, text) {
            validateHostPath("path", path);
            return withSftp(`cannot replace ${path} over SFTP`, async (sftp) => {
                await makeFolders(sftp, dirname(path));
                const temporary = temporaryFor(path);
                try {
                    await writeNewFile(sftp, temporary, text);
                    await call((cb) => sftp.ext_openssh_rename(temporary, path, (err) => cb(err, undefined)));
                } catch (err) {
                    // The temporary file may not exist (open failed); the first error is the one to report.
                    await call((cb) => sftp.unlink(temporary, cb)).catch(() => undefined);
                    throw err;
                }
            });
        },
        createExclusive(path, text) {
            validateHostPath("path", path);
            return withSftp(`cannot create ${path} over SFTP`, async (sftp) => {
                await makeFolders(sftp, dirname(path));
                const temporary = temporaryFor(path);
                await writeNewFile(sftp, temporary, text);
                try {
                    await call((cb) => sftp.ext_openssh_hardlink(temporary, path, (err) => cb(err, undefined)));
                    return true;
                } catch (err) {
                    // SFTP reports an existing target as a plain failure: it exists, or the error stands.
                    if (await call<Stats>((cb) => sftp.stat(path, cb)).then(() => true, () => false)) return false;
                    throw err;
                } finally {
                    await call((cb) => sftp.unlink(temporary, cb)).catch(() => undefined);
                }
            });
        },
        remove(path) {
            validateHostPath("path", path);
            return withSftp(`cannot remove ${path} over SFTP`, async (sftp) => {
                await call((cb) => sftp.unlink(path, cb)).catch((err) => {
                    if (!isMissing(err)) throw err;
                });
            });
        },
    };
}

/** The files of the host behind `endpoint`. Throws for `tcp://`, which cannot reach them. */
export function hostFilesFor(endpoint: Endpoint, options: TransportOptions = {}): HostFiles {
    switch (endpoint.kind) {
        case "unix":
            return localFiles;
        case "tcp":
            throw new RuntimeConnectionError(describeEndpoint(endpoint), "a tcp:// endpoint cannot reach the load balancer's files");
        case "ssh":
            return sshFiles(endpoint, options);
    }
}
