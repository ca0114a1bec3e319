/**
 * The lock on a servers file, shared by every process and stack that writes it: `<servers file>.lock`
 * on the load balancer's host, created atomically (HostFiles.createExclusive) with its holder and the
 * end of its lease. A writer holds it for one read-and-replace of the file, so two stacks flipping on
 * the same load balancers, or a `pulumi up` still running after `pulumi cancel`, never lose each other's
 * lines. A holder that died keeps the lock only until its lease ends; the next writer then takes it
 * over, through a short second lock (`.lock.takeover`) so that two writers never both do.
 *
 * Leases are compared with the writer's own clock: the machines that run `pulumi up` against one load
 * balancer should keep their clocks in step (NTP) to well within LOCK_LEASE_MS.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { HostFiles } from "./runtime/hostFiles";

/** How long a holder may keep the lock, in ms: far longer than one read and replace over SFTP. */
export const LOCK_LEASE_MS = 60_000;
/** Longest wait for the lock, in ms: two leases, so a dead holder's lock is always taken over in time. */
export const LOCK_WAIT_MS = 2 * LOCK_LEASE_MS + 10_000;
/** Interval between two tries, in ms (plus up to as much again at random, so waiters do not collide). */
const RETRY_MS = 25;

/** What a lock file records. */
interface LockRecord {
    holder: string;
    /** When the lease ends (epoch ms). */
    expiresAt: number;
}

/** Raised when the lock could not be had, or its lease ended before the holder was done. */
export class HostLockError extends Error {
    readonly name = "HostLockError";
}

function parseRecord(text: string | undefined): LockRecord | undefined {
    try {
        const o = JSON.parse(text ?? "") as Partial<LockRecord>;
        return typeof o.holder === "string" && typeof o.expiresAt === "number" ? { holder: o.holder, expiresAt: o.expiresAt } : undefined;
    } catch {
        return undefined;
    }
}

/** Removes the lock at `lockPath` if it still holds `stale` (whose lease ended), under the takeover lock. */
async function takeOver(files: HostFiles, lockPath: string, stale: string, leaseMs: number): Promise<void> {
    const takeoverPath = `${lockPath}.takeover`;
    const mine = JSON.stringify({ holder: `${hostname()}:${process.pid}:takeover`, expiresAt: Date.now() + leaseMs });
    if (!(await files.createExclusive(takeoverPath, mine))) {
        // A takeover lasts milliseconds: one whose lease ended was left by a writer that died in it.
        const other = await files.read(takeoverPath);
        if ((parseRecord(other)?.expiresAt ?? Infinity) < Date.now()) await files.remove(takeoverPath);
        return;
    }
    try {
        if ((await files.read(lockPath)) === stale) await files.remove(lockPath);
    } finally {
        await files.remove(takeoverPath);
    }
}

/** How long a lock is held and waited for, in ms. @default LOCK_LEASE_MS and LOCK_WAIT_MS */
export interface LockTimes {
    leaseMs: number;
    waitMs: number;
}

/**
 * Runs `task` holding the lock of the file at `path` on `files`' host; `task` gets the end of the lease
 * (epoch ms) and must not write after it (HostLockError). Waits at most `times.waitMs` for the lock.
 */
export async function withHostLock<T>(
    files: HostFiles,
    path: string,
    task: (leaseEnd: number) => Promise<T>,
    times: LockTimes = { leaseMs: LOCK_LEASE_MS, waitMs: LOCK_WAIT_MS },
): Promise<T> {
    const lockPath = `${path}.lock`;
    const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    const deadline = Date.now() + times.waitMs;
    let record: LockRecord;
    for (;;) {
        record = { holder, expiresAt: Date.now() + times.leaseMs };
        if (await files.createExclusive(lockPath, JSON.stringify(record))) break;
        const text = await files.read(lockPath);
        const other = parseRecord(text);
        if (text !== undefined && other && other.expiresAt < Date.now()) {
            await takeOver(files, lockPath, text, times.leaseMs);
            continue;
        }
        if (Date.now() > deadline) {
            throw new HostLockError(
                `${lockPath} is held by ${other ? `${other.holder} until ${new Date(other.expiresAt).toISOString()}` : `something that is not a lock of this plugin: ${JSON.stringify((text ?? "").slice(0, 80))}`}; ` +
                    `waited ${times.waitMs} ms. If no \`pulumi up\` of any stack is writing this load balancer's servers file, remove the lock file.`,
            );
        }
        await sleep(RETRY_MS + Math.random() * RETRY_MS);
    }
    try {
        return await task(record.expiresAt);
    } finally {
        // Released only while it is still ours: after its lease, another writer may hold it.
        if (parseRecord(await files.read(lockPath).catch(() => undefined))?.holder === holder) await files.remove(lockPath).catch(() => undefined);
    }
}
