/**
 * Everything a membership uses on one load balancer: its Runtime API client (one per endpoint and
 * credentials, shared by every membership in the provider host), its servers file, and the retry rule
 * for errors that pass (a connection that drops, a reload in progress).
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { RuntimeClient, RuntimeCommandError } from "./runtime/client";
import { backendStats } from "./runtime/backendStats";
import { hostFilesFor } from "./runtime/hostFiles";
import { describeProcess, type StatRow } from "./runtime/parsers";
import type { LoadBalancerRef, MembershipSpec } from "./membershipSpec";
import { drainedLine, readServersFile, renderServerLine, updateServersFile, type ServersFileHeader } from "./serversFile";
import { RuntimeConnectionError, sshOptionsFor } from "./runtime/transport";
import type { ServerState } from "./runtime/validate";
import { acceptsCookieOnAddServer } from "./runtime/versions";
import { progress } from "../provider/providerLog";
import { mayTouch, ownerOfLine, ServerOwnedError, type ServerOwner } from "./ownership";

export interface LoadBalancerAccess {
    lb: LoadBalancerRef;
    client: RuntimeClient;
    /**
     * Writes the server's line, with its owner, into the servers file in `state`, or removes it
     * (`undefined`). A line owned by another stack or resource is never rewritten or removed
     * (ServerOwnedError). A no-op for runtime-only memberships.
     */
    record(spec: MembershipSpec, state: ServerState | undefined): Promise<void>;
    /** Whether the servers file has the server's line in `state` (always true for runtime-only memberships). */
    isRecorded(spec: MembershipSpec, state: ServerState): Promise<boolean>;
    /** The operator's `default-server` lines in the servers file (none for runtime-only memberships). */
    defaultServerLines(): Promise<string[]>;
    /** Whether the servers file has a line for `server`, whatever it says (true for runtime-only memberships). */
    hasLine(server: string): Promise<boolean>;
    /** The server lines of the servers file, by server name (none for runtime-only memberships). */
    serverLines(): Promise<Map<string, string>>;
    /**
     * Lets `change` edit the server lines of the servers file (under its lock, serversFile.ts), whoever
     * owns them: only for a rollout's weights of its own stack's stable servers (rollout/stableServers.ts).
     */
    editServerLines(change: (servers: Map<string, string>) => void): Promise<void>;
    /** The owner recorded on `spec`'s line if it is not `spec`'s own (ownership.ts); `undefined` for runtime-only memberships. */
    otherOwner(spec: MembershipSpec): Promise<ServerOwner | undefined>;
}

/**
 * The explicit cookie value of `spec`'s server on a load balancer running `version`: its name, where
 * the version takes `cookie` on `add server` (versions.ts); otherwise none (the backend's dynamic cookie).
 */
export function cookieFor(spec: MembershipSpec, version: string | undefined): string | undefined {
    return spec.options.cookie && acceptsCookieOnAddServer(version) ? spec.server : undefined;
}

const clients = new Map<string, RuntimeClient>();

/** The access to `lb` for `spec` (clients are cached by endpoint and credentials). */
export function accessTo(lb: LoadBalancerRef, spec: MembershipSpec): LoadBalancerAccess {
    const ssh = spec.ssh ? sshOptionsFor(lb, spec.ssh) : undefined;
    const key = createHash("sha256").update(JSON.stringify([lb.endpoint, ssh ?? null])).digest("hex");
    let client = clients.get(key);
    if (!client) {
        client = new RuntimeClient(lb.endpoint, ssh ? { ssh } : {});
        clients.set(key, client);
    }
    const path = lb.serversFile;
    const header: ServersFileHeader = { backend: spec.backend, ...(lb.backendDefaults ? { backendDefaults: lb.backendDefaults } : {}) };
    const fileKey = `${key}:${path}`;
    const endpoint = client.endpoint;
    const files = () => hostFilesFor(endpoint, ssh ? { ssh } : {});
    const line = (s: MembershipSpec, state: ServerState) => {
        const cookie = cookieFor(s, client.lastProcess?.version);
        return renderServerLine({
            name: s.server,
            address: s.address,
            port: s.port,
            weight: s.weight,
            check: s.check,
            options: s.options,
            state,
            ...(cookie ? { cookie } : {}),
            ...(s.owner ? { owner: s.owner } : {}),
        });
    };
    const where = (s: MembershipSpec) => `${lb.name}: ${s.backend}/${s.server}`;
    /** The servers file's content; `undefined` for runtime-only memberships, which have none. */
    const fileContent = () => (spec.runtimeOnly || path === undefined ? Promise.resolve(undefined) : readServersFile(files(), fileKey, path, header));
    return {
        lb,
        client,
        async record(s, state) {
            if (spec.runtimeOnly || path === undefined) return;
            await updateServersFile(files(), fileKey, path, header, (servers) => {
                const own = servers.get(s.server);
                if (!mayTouch(own, s.owner)) throw new ServerOwnedError(where(s), ownerOfLine(own) as ServerOwner, s.owner);
                if (state === undefined) servers.delete(s.server);
                else if (!s.adopted) servers.set(s.server, line(s, state));
                // An adopted server keeps its own line (it may say what the plugin cannot see); it is only drained.
                else if (own !== undefined && state === "drain") servers.set(s.server, drainedLine(own));
            });
        },
        async editServerLines(change) {
            if (spec.runtimeOnly || path === undefined) return;
            await updateServersFile(files(), fileKey, path, header, change);
        },
        async isRecorded(s, state) {
            const content = await fileContent();
            return content === undefined || content.servers.get(s.server) === line(s, state);
        },
        async hasLine(server) {
            const content = await fileContent();
            return content === undefined || content.servers.has(server);
        },
        async serverLines() {
            return (await fileContent())?.servers ?? new Map();
        },
        async otherOwner(s) {
            const own = (await fileContent())?.servers.get(s.server);
            return mayTouch(own, s.owner) ? undefined : ownerOfLine(own);
        },
        async defaultServerLines() {
            return (await fileContent())?.settings ?? [];
        },
    };
}

/**
 * Whether an error may pass by itself, so the step is tried again until its deadline: the load
 * balancer could not be reached or the connection dropped (not a refused host key or login), or the
 * command reached a process that was being replaced by a reload ("Proxy is disabled.").
 */
export function isTransient(err: unknown): boolean {
    return (err instanceof RuntimeConnectionError && err.retryable) || (err instanceof RuntimeCommandError && err.code === "proxy-disabled");
}

/**
 * Which process answers on the load balancer now (asked on a new connection, which the next commands
 * use) and the server's `show stat` row there; a backend that does not exist has no row.
 */
export async function serverNow(client: RuntimeClient, backend: string, server: string): Promise<{ process: string; row?: StatRow }> {
    const process = describeProcess(await client.currentProcess());
    try {
        return { process, row: await backendStats(client, backend).server(server) };
    } catch (err) {
        if (err instanceof RuntimeCommandError && err.code === "no-such-backend") return { process };
        throw err;
    }
}

/** The first line of an error's message, for progress lines. */
export function firstLine(err: unknown): string {
    return String((err as Error)?.message ?? err).split("\n")[0];
}

/** A round's verdict: `done` with a value, or `again` after the interval. */
export type Round<T> = { done: T } | "again";

/**
 * Runs `round` until it is done. An error that passes (`isTransient`) is reported once as progress
 * and the round tried again; at `deadline`, `timedOut(lastError)` decides what is thrown.
 */
export async function inRounds<T>(
    options: { deadline: number; intervalMs: number; name: string },
    round: () => Promise<Round<T>>,
    timedOut: (lastError: unknown) => Error,
): Promise<T> {
    let lastError: unknown;
    for (;;) {
        try {
            const verdict = await round();
            if (verdict !== "again") return verdict.done;
            lastError = undefined;
        } catch (err) {
            if (!isTransient(err)) throw err;
            if (lastError === undefined) progress(`${options.name}: ${firstLine(err)}; trying again`);
            lastError = err;
        }
        if (Date.now() >= options.deadline) throw timedOut(lastError);
        await sleep(options.intervalMs);
    }
}
