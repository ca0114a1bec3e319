/**
 * Files on a load balancer's host: the servers file that makes a membership survive HAProxy reloads
 * and restarts. `unix://` endpoints are on this machine (plain file system); `ssh://` endpoints are
 * reached over SFTP on the same SSH connection as their Runtime API; `tcp://` endpoints cannot reach
 * the host's file system at all.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { describeEndpoint, type Endpoint } from "./endpoint";
import { RuntimeConnectionError, type TransportOptions } from "./transport";
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
}

/** Absolute path of letters, digits and `_ . @ + / -`: it is written into messages and HAProxy's -f lists. */
const FILE_PATH = /^(\/[A-Za-z0-9_.@+-]+)+$/;

/** A servers-file path: absolute, normalized, safe characters; throws naming `field`. */
export function validateHostPath(field: string, value: unknown): string {
    if (typeof value !== "string" || !FILE_PATH.test(value) || value.split("/").some((part) => part === "." || part === "..")) {
        throw new RuntimeInputError(field, value, "an absolute path of letters, digits, '_', '.', '@', '+', '/' or '-' (no '.' or '..' parts)");
    }
    return value;
}

/** Local files (the host of a `unix://` endpoint is this machine). */
const localFiles: HostFiles = {
    async read(path) {
        try {
            return await readFile(path, "utf8");
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
            throw err;
        }
    },
    async replace(path, text) {
        await mkdir(dirname(path), { recursive: true });
        const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
        try {
            await writeFile(temporary, text, { mode: 0o644 });
            await rename(temporary, path);
        } finally {
            await rm(temporary, { force: true });
        }
    },
};

/** The files of the host behind `endpoint`. Throws for `tcp://`, which cannot reach them. */
export function hostFilesFor(endpoint: Endpoint, _options: TransportOptions = {}): HostFiles {
    switch (endpoint.kind) {
        case "unix":
            return localFiles;
        case "tcp":
            throw new RuntimeConnectionError(describeEndpoint(endpoint), "a tcp:// endpoint cannot reach the load balancer's files");
        case "ssh":
            throw new RuntimeConnectionError(describeEndpoint(endpoint), "files over SSH are not available yet");
    }
}
