/**
 * Shared status reads of one backend: every caller that asks while a `show stat <backend>` is under way
 * gets that reply instead of sending its own. Many memberships polling one load balancer (200 servers
 * attaching or draining at once) then cost one `show stat` per poll round, not one per server.
 */
import type { RuntimeClient } from "./client";
import { findStatRow, type StatRow } from "./parsers";

class BackendStats {
    private inflight?: Promise<StatRow[]>;

    constructor(
        private readonly client: RuntimeClient,
        private readonly backend: string,
    ) {}

    /** The backend's rows, from the read under way or a new one. */
    rows(): Promise<StatRow[]> {
        this.inflight ??= this.client.showStat(this.backend).finally(() => (this.inflight = undefined));
        return this.inflight;
    }

    async server(name: string): Promise<StatRow | undefined> {
        return findStatRow(await this.rows(), this.backend, name);
    }
}

const perClient = new WeakMap<RuntimeClient, Map<string, BackendStats>>();

/** The shared reader of `backend` on the load balancer behind `client`. */
export function backendStats(client: RuntimeClient, backend: string): BackendStats {
    let byBackend = perClient.get(client);
    if (!byBackend) perClient.set(client, (byBackend = new Map()));
    let stats = byBackend.get(backend);
    if (!stats) byBackend.set(backend, (stats = new BackendStats(client, backend)));
    return stats;
}
