/**
 * Free loopback TCP ports for test processes.
 *
 * A test picks a port seconds before HAProxy binds it (a `pulumi up` starts in between). A port from the
 * kernel's ephemeral range (`net.ipv4.ip_local_port_range`, 32768–60999 by default) can be handed in that
 * gap to anything that binds port 0 or connects out (the engine's gRPC servers do), so ports here come from
 * below that range, where the kernel never assigns one by itself: only an explicit bind can take them.
 */
import { readFileSync } from "node:fs";

import { isPortFree } from "../src/targets/local/processes";

/** The lowest port handed out: above the well-known and common fixed service ports. */
const LOWEST_PORT = 10000;
/** The kernel's default start of the ephemeral range, used where /proc does not say. */
const DEFAULT_EPHEMERAL_START = 32768;
const MAX_ATTEMPTS = 200;

/** Ports this process handed out already, so that two picks before either binds never collide. */
const handedOut = new Set<number>();

/** A TCP port free on 127.0.0.1 now, below the kernel's ephemeral range and not handed out before here. */
export async function freePort(): Promise<number> {
    const highest = (ephemeralStart ??= readEphemeralStart()) - 1;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const port = LOWEST_PORT + Math.floor(Math.random() * (highest - LOWEST_PORT + 1));
        if (handedOut.has(port) || !(await isPortFree(port))) continue;
        handedOut.add(port);
        return port;
    }
    throw new Error(`no free loopback port between ${LOWEST_PORT} and ${highest} after ${MAX_ATTEMPTS} attempts`);
}

/** The start of the kernel's ephemeral range, read once. */
let ephemeralStart: number | undefined;

function readEphemeralStart(): number {
    try {
        const start = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
        return Number.isInteger(start) && start > LOWEST_PORT + 1000 ? start : DEFAULT_EPHEMERAL_START;
    } catch {
        return DEFAULT_EPHEMERAL_START;
    }
}
