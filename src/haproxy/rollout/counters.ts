/**
 * What a rollout's analysis reads (runbook step 11, progressive): each server's cumulative counters on
 * each load balancer, as HAProxy counts them. A source is the Runtime API's `show stat` (statCounters.ts,
 * the default) or a Prometheus server that scrapes HAProxy's exporter (prometheusSource.ts). Counters are
 * per HAProxy process: a reload starts them again from zero, which a changed `process` says.
 */

/** One server's cumulative counters on one load balancer. */
export interface ServerCounters {
    /** Responses of any status (`hrsp_1xx` .. `hrsp_5xx` + `hrsp_other`). */
    responses: number;
    /** 5xx responses the server sent (`hrsp_5xx`). */
    responses5xx: number;
    /** Responses that failed: read errors, server timeouts (`eresp`; a 502/504 counted here is not in `hrsp_5xx`). */
    responseErrors: number;
    /** Connections that failed (`econ`). */
    connectionErrors: number;
    /** Retries (`wretr`) and redispatches (`wredis`). */
    retries: number;
    /** Average response time over HAProxy's last 1024 requests, in ms (`rtime`); `undefined` when unknown. */
    responseTimeMs?: number;
}

/** One load balancer's counters for a backend at one moment. */
export interface CounterReading {
    /** The load balancer's name. */
    lb: string;
    /** Which HAProxy process counted (pid and start time): another one means the counters started again. */
    process: string;
    /** When it was read (epoch ms). */
    at: number;
    /** By server name; a server HAProxy does not have is absent. */
    servers: Map<string, ServerCounters>;
}

/** Where a rollout's analysis gets its counters. */
export interface MetricSource {
    /** For messages, e.g. `the Runtime API` or `Prometheus at http://127.0.0.1:9090`. */
    readonly description: string;
    /**
     * Fails (with a message saying what is missing) when the source cannot give counters of `servers`
     * in `backend` on every one of `lbs`: run before the first weight changes, so a misconfigured source
     * never passes silently.
     */
    preflight(backend: string, servers: string[], lbs: string[]): Promise<void>;
    /** The counters of `servers` in `backend` on every one of `lbs`, now. */
    read(backend: string, servers: string[], lbs: string[]): Promise<CounterReading[]>;
}
