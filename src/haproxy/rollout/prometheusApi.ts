/**
 * Instant queries against Prometheus's HTTP API (`GET <url>/api/v1/query`), each bounded by a timeout,
 * and the pure parser of their replies.
 */

/** One series of an instant vector: its labels (`__name__` included) and its value. */
export interface Sample {
    labels: Record<string, string>;
    /** The sample value; `NaN`, `+Inf` and `-Inf` as JavaScript numbers. */
    value: number;
}

/** Prometheus answered, but not with an instant vector: the reply does not fit, or it is an error. */
export class PrometheusQueryError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PrometheusQueryError";
    }
}

/** Options of `instantQuery`. */
export interface QueryOptions {
    /** Evaluation time, epoch ms. */
    at: number;
    /** Give up on the HTTP call (connect, reply, body) after this long. */
    timeoutMs: number;
}

/**
 * Runs `query` at `options.at` on the Prometheus at `baseUrl` (a path prefix is kept) and returns the
 * vector's samples. Fails with the URL and the query on a network error, a timeout, or a reply that is
 * not a successful instant vector.
 */
export async function instantQuery(baseUrl: string, query: string, options: QueryOptions): Promise<Sample[]> {
    const url = new URL("api/v1/query", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
    url.searchParams.set("query", query);
    url.searchParams.set("time", (options.at / 1000).toFixed(3));
    const what = `Prometheus at ${baseUrl}: query ${query}`;
    let status: number;
    let body: string;
    try {
        const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs), headers: { accept: "application/json" } });
        status = res.status;
        body = await res.text();
    } catch (err) {
        const timedOut = err instanceof Error && err.name === "TimeoutError";
        throw new Error(`${what}: ${timedOut ? `no reply within ${options.timeoutMs} ms` : (err as Error).message}`, { cause: err });
    }
    return parseQueryReply(what, status, body);
}

/**
 * The samples of an `/api/v1/query` reply with HTTP `status` and JSON `body`; throws
 * `PrometheusQueryError` quoting `what` for an error reply (`"status": "error"`, any non-2xx) or a
 * result that is not a well-formed instant vector.
 */
export function parseQueryReply(what: string, status: number, body: string): Sample[] {
    let reply: unknown;
    try {
        reply = JSON.parse(body);
    } catch {
        throw new PrometheusQueryError(`${what}: HTTP ${status}, not JSON: ${JSON.stringify(body.slice(0, 120))}`);
    }
    const r = reply as { status?: unknown; errorType?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
    if (r?.status !== "success" || status < 200 || status > 299) {
        const detail = typeof r?.error === "string" ? `${String(r.errorType)}: ${r.error}` : JSON.stringify(body.slice(0, 120));
        throw new PrometheusQueryError(`${what}: HTTP ${status}, ${detail}`);
    }
    if (r.data?.resultType !== "vector" || !Array.isArray(r.data.result)) {
        throw new PrometheusQueryError(`${what}: expected an instant vector, got ${JSON.stringify(r.data?.resultType)}`);
    }
    return r.data.result.map((item: unknown, i: number) => sample(`${what}: result[${i}]`, item));
}

function sample(what: string, item: unknown): Sample {
    const { metric, value } = (item ?? {}) as { metric?: unknown; value?: unknown };
    if (typeof metric !== "object" || metric === null || !Object.values(metric).every((v) => typeof v === "string")) {
        throw new PrometheusQueryError(`${what}: "metric" is not an object of string labels`);
    }
    if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "number" || typeof value[1] !== "string") {
        throw new PrometheusQueryError(`${what}: "value" is not [time, "number"]`);
    }
    const parsed = SPECIAL_VALUES.get(value[1]) ?? (DECIMAL.test(value[1]) ? Number(value[1]) : undefined);
    if (parsed === undefined) throw new PrometheusQueryError(`${what}: value ${JSON.stringify(value[1])} is not a number`);
    return { labels: { ...(metric as Record<string, string>) }, value: parsed };
}

/** How Prometheus writes the values that are not decimals. */
const SPECIAL_VALUES = new Map([["NaN", NaN], ["+Inf", Infinity], ["-Inf", -Infinity]]);
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
