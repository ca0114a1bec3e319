/**
 * A metric source that reads HAProxy's built-in Prometheus exporter (`prometheus-exporter` service) through
 * a Prometheus server that scrapes it: the raw cumulative counters of each server, as the exporter serves
 * them (the same counters as `show stat`), two instant queries per read at one evaluation time.
 *
 * `process` is the exporter's `haproxy_process_start_time_seconds` (whole seconds; the exporter does not
 * serve the pid): two processes started within the same second of one another look the same. After a
 * reload, a read shows the new process once Prometheus has scraped it.
 *
 * `responseTimeMs` is the exporter's `rtime`, which always averages over 1024 requests, where `show stat`
 * averages over those answered while fewer than 1024 were: it reads lower than `show stat` until the
 * process has answered 1024 requests through that server (3 requests of 5 ms: 1 ms against 5).
 */
import { validateName, RuntimeInputError } from "../runtime/validate";
import type { CounterReading, MetricSource, ServerCounters } from "./counters";
import { instantQuery, type Sample } from "./prometheusApi";
import { resolvePrometheusSettings, type PrometheusSettings, type ResolvedPrometheusSettings } from "./prometheusSettings";
import { anyOf, selector, type Matcher } from "./promql";

/** The exporter's per-server metrics the source reads (HAProxy `addons/promex`, 2.6 to 3.2), by what they give. */
export const SERVER_METRICS = {
    /** `hrsp_1xx` .. `hrsp_5xx`, `hrsp_other`: one series per `code` label (`1xx` .. `5xx`, `other`). */
    responses: "haproxy_server_http_responses_total",
    /** `eresp` */
    responseErrors: "haproxy_server_response_errors_total",
    /** `econ` */
    connectionErrors: "haproxy_server_connection_errors_total",
    /** `wretr` */
    retryWarnings: "haproxy_server_retry_warnings_total",
    /** `wredis` */
    redispatchWarnings: "haproxy_server_redispatch_warnings_total",
    /** `rtime`, in seconds */
    responseTime: "haproxy_server_response_time_average_seconds",
} as const;

/** The exporter's start time of the HAProxy process (epoch seconds, whole). */
export const PROCESS_START_METRIC = "haproxy_process_start_time_seconds";

/** The series each server must have (`code="5xx"` of the responses stands for the `code` series). */
const REQUIRED_SERVER_SERIES = [
    `${SERVER_METRICS.responses}{code="5xx"}`,
    SERVER_METRICS.responseErrors,
    SERVER_METRICS.connectionErrors,
    SERVER_METRICS.retryWarnings,
    SERVER_METRICS.redispatchWarnings,
    SERVER_METRICS.responseTime,
];

/** Most missing series a preflight message lists. */
const MAX_LISTED = 20;

/** The Prometheus metric source; `settings` are checked at once (`rollout.prometheus.*` in errors). */
export function prometheusSource(settings: PrometheusSettings): MetricSource {
    const resolved = resolvePrometheusSettings(settings);
    const description = `Prometheus at ${resolved.url}`;
    return {
        description,
        async preflight(backend, servers, lbs) {
            const scrape = await query(resolved, backend, servers, lbs);
            const missing = missingSeries(scrape);
            if (missing.length > 0) {
                const listed = missing.slice(0, MAX_LISTED).map((m) => `\n  ${m}`).join("");
                const more = missing.length > MAX_LISTED ? `\n  ... and ${missing.length - MAX_LISTED} more` : "";
                throw new Error(
                    `${description} has no series for what the rollout reads of backend ${backend}:${listed}${more}\n` +
                        `queried: ${scrape.queries.join(" and ")}; check rollout.prometheus.instances${resolved.job === undefined ? "" : " and rollout.prometheus.job"}, and that Prometheus scrapes each load balancer's exporter`,
                );
            }
        },
        async read(backend, servers, lbs) {
            return readings(await query(resolved, backend, servers, lbs));
        },
    };
}

/** What two instant queries at one time returned, with what was asked. Exported for testing. */
export interface Scrape {
    description: string;
    backend: string;
    servers: string[];
    /** The load balancers with the instance label of each. */
    lbs: { lb: string; instance: string }[];
    /** Evaluation time, epoch ms. */
    at: number;
    /** The queries, for messages: the servers' one, then the processes' one. */
    queries: [string, string];
    serverSamples: Sample[];
    processSamples: Sample[];
}

async function query(settings: ResolvedPrometheusSettings, backend: string, servers: string[], lbNames: string[]): Promise<Scrape> {
    const lbs = instancesOf(settings, lbNames);
    const queries = buildQueries(backend, servers, lbs.map((l) => l.instance), settings.job);
    const at = Date.now();
    const options = { at, timeoutMs: settings.timeoutMs };
    const [serverSamples, processSamples] = await Promise.all(queries.map((q) => instantQuery(settings.url, q, options)));
    return { description: `Prometheus at ${settings.url}`, backend, servers, lbs, at, queries, serverSamples, processSamples };
}

/** Each load balancer with its instance label; throws for one `instances` does not name. */
function instancesOf(settings: ResolvedPrometheusSettings, lbs: string[]): { lb: string; instance: string }[] {
    if (lbs.length === 0) throw new RuntimeInputError("lbs", lbs, "at least one load balancer");
    return lbs.map((lb) => {
        const instance = Object.hasOwn(settings.instances, lb) ? settings.instances[lb] : undefined;
        if (instance === undefined) {
            throw new RuntimeInputError(`rollout.prometheus.instances.${lb}`, instance, `the instance label of load balancer ${lb}'s exporter target`);
        }
        return { lb, instance };
    });
}

/**
 * The servers' query (every metric of `SERVER_METRICS` for `servers` of `backend`) and the processes'
 * query, both limited to `instances` (and `job`). Names are checked as HAProxy names; every value is
 * escaped. Exported for testing.
 */
export function buildQueries(backend: string, servers: string[], instances: string[], job?: string): [string, string] {
    validateName("backend", backend);
    if (servers.length === 0) throw new RuntimeInputError("servers", servers, "at least one server");
    servers.forEach((s, i) => validateName(`servers[${i}]`, s));
    const target: Matcher[] = [{ label: "instance", op: "=~", value: anyOf(instances) }];
    if (job !== undefined) target.push({ label: "job", op: "=", value: job });
    const serverQuery = selector(undefined, [
        { label: "__name__", op: "=~", value: anyOf(Object.values(SERVER_METRICS)) },
        { label: "proxy", op: "=", value: backend },
        { label: "server", op: "=~", value: anyOf(servers) },
        ...target,
    ]);
    return [serverQuery, selector(PROCESS_START_METRIC, target)];
}

/** One server's series on one instance, by metric name (and `code` for the responses). */
type SeriesOf = Map<string, number>;

/** Key of one series within a server: the metric name, with `{code="..."}` for the responses. */
function seriesKey(labels: Record<string, string>): string {
    const name = labels.__name__;
    return name === SERVER_METRICS.responses ? `${name}{code="${labels.code}"}` : name;
}

/**
 * The servers' series by instance and server; throws when one series comes twice (two scrape jobs of
 * one target: `job` tells which).
 */
function byServer(scrape: Scrape): Map<string, Map<string, SeriesOf>> {
    const out = new Map<string, Map<string, SeriesOf>>();
    for (const s of scrape.serverSamples) {
        const { instance, server } = s.labels;
        if (s.labels.proxy !== scrape.backend || !scrape.servers.includes(server)) continue;
        let servers = out.get(instance);
        if (!servers) out.set(instance, (servers = new Map()));
        let series = servers.get(server);
        if (!series) servers.set(server, (series = new Map()));
        const key = seriesKey(s.labels);
        if (series.has(key)) {
            throw new Error(`${scrape.description}: more than one series of ${key} for ${scrape.backend}/${server} on instance ${JSON.stringify(instance)}: set rollout.prometheus.job to the job that scrapes the exporter`);
        }
        series.set(key, s.value);
    }
    return out;
}

/** The process start time of each instance; throws when an instance has it twice. */
function startTimes(scrape: Scrape): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of scrape.processSamples) {
        if (out.has(s.labels.instance)) {
            throw new Error(`${scrape.description}: more than one series of ${PROCESS_START_METRIC} on instance ${JSON.stringify(s.labels.instance)}: set rollout.prometheus.job to the job that scrapes the exporter`);
        }
        out.set(s.labels.instance, s.value);
    }
    return out;
}

/** A server's counters from its series; `undefined` unless every required series is there. */
function counters(series: SeriesOf): ServerCounters | undefined {
    if (!REQUIRED_SERVER_SERIES.every((k) => series.has(k))) return undefined;
    let responses = 0;
    for (const [key, value] of series) if (key.startsWith(`${SERVER_METRICS.responses}{`)) responses += value;
    const seconds = series.get(SERVER_METRICS.responseTime) as number;
    return {
        responses,
        responses5xx: series.get(`${SERVER_METRICS.responses}{code="5xx"}`) as number,
        responseErrors: series.get(SERVER_METRICS.responseErrors) as number,
        connectionErrors: series.get(SERVER_METRICS.connectionErrors) as number,
        retries: (series.get(SERVER_METRICS.retryWarnings) as number) + (series.get(SERVER_METRICS.redispatchWarnings) as number),
        responseTimeMs: Number.isFinite(seconds) ? Math.round(seconds * 1e6) / 1e3 : undefined,
    };
}

/**
 * One reading per load balancer: a server lacking any required series is absent; an instance without
 * its process start time fails the read (its counters could not be told apart from another process's).
 * Exported for testing.
 */
export function readings(scrape: Scrape): CounterReading[] {
    const servers = byServer(scrape);
    const starts = startTimes(scrape);
    return scrape.lbs.map(({ lb, instance }) => {
        const start = starts.get(instance);
        if (start === undefined) {
            throw new Error(`${scrape.description}: no ${PROCESS_START_METRIC} series for load balancer ${lb} (instance ${JSON.stringify(instance)}), queried: ${scrape.queries[1]}`);
        }
        const reading: CounterReading = { lb, process: `${instance} started ${start}`, at: scrape.at, servers: new Map() };
        for (const [server, series] of servers.get(instance) ?? []) {
            const c = counters(series);
            if (c) reading.servers.set(server, c);
        }
        return reading;
    });
}

/** What is missing, one line per load balancer and server (or process), e.g. `lb1 (instance "x"): web3: no series`. Exported for testing. */
export function missingSeries(scrape: Scrape): string[] {
    const servers = byServer(scrape);
    const starts = startTimes(scrape);
    const out: string[] = [];
    for (const { lb, instance } of scrape.lbs) {
        const where = `${lb} (instance ${JSON.stringify(instance)})`;
        if (!starts.has(instance)) out.push(`${where}: no ${PROCESS_START_METRIC}`);
        for (const server of scrape.servers) {
            const series = servers.get(instance)?.get(server);
            const lacking = REQUIRED_SERVER_SERIES.filter((k) => !series?.has(k));
            if (lacking.length === REQUIRED_SERVER_SERIES.length) out.push(`${where}: ${scrape.backend}/${server}: no series of any metric`);
            else if (lacking.length > 0) out.push(`${where}: ${scrape.backend}/${server}: no ${lacking.join(", ")}`);
        }
    }
    return out;
}
