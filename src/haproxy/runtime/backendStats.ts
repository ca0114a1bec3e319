/**
 * Shared status reads of one backend: every caller that asks while a `show stat <backend>` is under way
 * gets that reply instead of sending its own. Many memberships polling one load balancer (200 servers
 * attaching or draining at once) then cost one `show stat` per poll round, not one per server. The same
 * holds for a process replaced by a reload that drains still read (`PreviousProcess`).
 */
import { findStatRow, type StatRow } from "./parsers";

/** What can answer `show stat <backend>`: a client, or a replaced process. */
export interface StatReader {
    showStat(backend: string): Promise<StatRow[]>;
}

class BackendStats {
    private inflight?: Promise<StatRow[]>;

    constructor(
        private readonly client: StatReader,
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

const perClient = new WeakMap<StatReader, Map<string, BackendStats>>();

/** The shared reader of `backend` on the process behind `client`. */
export function backendStats(client: StatReader, backend: string): BackendStats {
    let byBackend = perClient.get(client);
    if (!byBackend) perClient.set(client, (byBackend = new Map()));
    let stats = byBackend.get(backend);
    if (!stats) byBackend.set(backend, (stats = new BackendStats(client, backend)));
    return stats;
}
