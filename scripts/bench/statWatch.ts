/**
 * A neutral witness for the Ansible benchmark: polls `show stat` of one backend on every load balancer
 * (every 25 ms by default) and records, per load balancer and server, when HAProxy first showed it in
 * MAINT after it had served (a server added at run time starts in MAINT), whether it was in MAINT while
 * sessions were still on it (a drain declared done too early), and when it was gone. It sees what
 * HAProxy says, whichever tool made the change.
 */
import { RuntimeClient } from "../../src/haproxy/runtime/client";

export interface ServerSightings {
    /** First poll that showed the server out of MAINT (UP, DRAIN, DOWN...) (epoch ms). */
    servedAt?: number;
    /** First poll that showed the server in MAINT after `servedAt` (epoch ms). */
    maintAt?: number;
    /** Most sessions (scur + qcur) seen on the server while it was in MAINT. */
    sessionsInMaint: number;
    /** First poll that no longer showed the server, after it had been seen (epoch ms). */
    goneAt?: number;
}

export class StatWatch {
    private readonly clients: { lb: string; client: RuntimeClient }[];
    private readonly seen = new Map<string, ServerSightings>();
    private running = true;
    private failure?: Error;
    private readonly loop: Promise<void>;

    constructor(
        lbs: { name: string; endpoint: string }[],
        private readonly backend: string,
        private readonly intervalMs = 25,
    ) {
        this.clients = lbs.map((lb) => ({ lb: lb.name, client: new RuntimeClient(lb.endpoint) }));
        this.loop = this.poll();
    }

    /** What was seen of `server` on load balancer `lb` so far. */
    of(lb: string, server: string): ServerSightings {
        return this.seen.get(`${lb}/${server}`) ?? { sessionsInMaint: 0 };
    }

    /** Forgets what was seen of the servers (a new round of the benchmark). */
    reset(): void {
        this.seen.clear();
    }

    /** Stops polling; fails if a poll failed (a witness that stopped looking must not pass for one that saw nothing). */
    async stop(): Promise<void> {
        this.running = false;
        await this.loop;
        await Promise.all(this.clients.map((c) => c.client.close()));
        if (this.failure) throw new Error(`show stat witness: ${this.failure.message}`);
    }

    private async poll(): Promise<void> {
        while (this.running) {
            const began = Date.now();
            try {
                await Promise.all(this.clients.map((c) => this.look(c.lb, c.client)));
            } catch (err) {
                this.failure = err as Error;
                this.running = false;
            }
            await new Promise((r) => setTimeout(r, Math.max(0, this.intervalMs - (Date.now() - began))));
        }
    }

    private async look(lb: string, client: RuntimeClient): Promise<void> {
        const rows = await client.showStat(this.backend);
        const now = Date.now();
        const present = new Set<string>();
        for (const row of rows) {
            if (row.svname === "BACKEND" || row.svname === "FRONTEND") continue;
            const key = `${lb}/${row.svname}`;
            present.add(key);
            const s = this.seen.get(key) ?? { sessionsInMaint: 0 };
            if (!/^MAINT/.test(row.status ?? "")) {
                s.servedAt ??= now;
            } else if (s.servedAt !== undefined) {
                s.maintAt ??= now;
                s.sessionsInMaint = Math.max(s.sessionsInMaint, (row.scur ?? 0) + (row.qcur ?? 0));
            }
            this.seen.set(key, s);
        }
        for (const [key, s] of this.seen) {
            if (key.startsWith(`${lb}/`) && !present.has(key)) s.goneAt ??= now;
        }
    }
}
