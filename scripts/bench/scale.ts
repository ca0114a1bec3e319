/**
 * Benchmark 3: membership at scale. Attach, then drain and detach, N servers (default 200) on M HAProxy
 * processes (default 4): with the project's membership code (one interactive connection per load
 * balancer, commands pipelined, status reads shared), and the naive way, one Runtime API command per
 * connection, one after another, as a loop of `socat` calls would. Checks are off in both, so only the
 * command overhead is measured (a health check's rise is a physical wait common to both).
 */
import { execFile } from "node:child_process";
import { attach, detachAll } from "../../src/haproxy/membershipSteps";
import { resolveMembershipSpec, type LoadBalancerRef } from "../../src/haproxy/membershipSpec";
import { startHaproxy, type RunningHaproxy } from "../../lab/haproxy";
import { startHttpServer } from "../../lab/httpServer";
import { median, measure, seconds, type Figures } from "./stats";

/** One command through its own `socat` process and connection, as a shell loop would send it. */
function socatCommand(socket: string, command: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile("socat", ["-", `UNIX-CONNECT:${socket}`], (err, stdout) => (err ? reject(err) : resolve(stdout)));
        child.stdin?.end(`${command}\n`);
    });
}

async function naiveCycle(lbs: RunningHaproxy[], names: string[], address: string, port: number): Promise<void> {
    for (const lb of lbs) {
        for (const name of names) {
            await socatCommand(lb.adminSocket, `add server app/${name} ${address}:${port}`);
            await socatCommand(lb.adminSocket, `set server app/${name} state ready`);
            await socatCommand(lb.adminSocket, `show stat app -1 -1`); // confirm it is in rotation
        }
    }
    for (const lb of lbs) {
        for (const name of names) {
            await socatCommand(lb.adminSocket, `set server app/${name} state drain`);
            await socatCommand(lb.adminSocket, `show stat app -1 -1`); // sessions: zero
            await socatCommand(lb.adminSocket, `set server app/${name} state maint`);
            await socatCommand(lb.adminSocket, `del server app/${name}`);
        }
    }
}

async function ourCycle(lbs: LoadBalancerRef[], names: string[], address: string, port: number): Promise<void> {
    const specs = names.map((server) =>
        resolveMembershipSpec({ loadBalancers: lbs, backend: "app", server, address, port, check: { enabled: false }, drain: { pollIntervalMs: 20, quietPeriodMs: 0 } }),
    );
    await attach(specs, lbs);
    await detachAll(specs, lbs);
}

export async function scaleBenchmark(options: { servers?: number; loadBalancers?: number; runs?: number } = {}): Promise<Figures> {
    const servers = options.servers ?? 200;
    const count = options.loadBalancers ?? 4;
    const runs = options.runs ?? 5;
    const app = await startHttpServer("bench");
    const haproxies = await Promise.all(Array.from({ length: count }, () => startHaproxy()));
    try {
        const refs = haproxies.map((h, i) => ({ name: `lb${i + 1}`, endpoint: h.unixAdmin, serversFile: h.serversFile, backendDefaults: h.backendDefaults }));
        const ours: number[] = [];
        const naive: number[] = [];
        for (let r = 0; r < runs; r++) {
            const names = Array.from({ length: servers }, (_, i) => `s${r}-${i}`);
            ours.push(await measure(() => ourCycle(refs, names, app.host, app.port)));
            naive.push(await measure(() => naiveCycle(haproxies, names.map((n) => `n${n}`), app.host, app.port)));
        }
        const oursMs = median(ours);
        const naiveMs = median(naive);
        return {
            title: `membership at scale: ${servers} servers x ${count} load balancers, attach + drain + detach`,
            rows: [
                ["ours (median of " + runs + ")", seconds(oursMs)],
                ["naive socat loop (median of " + runs + ")", seconds(naiveMs)],
                ["ratio", `${(naiveMs / oursMs).toFixed(1)} x faster`],
            ],
            raw: { oursMs: ours, naiveMs: naive },
        };
    } finally {
        await Promise.all(haproxies.map((h) => h.stop()));
        await app.stop();
    }
}
