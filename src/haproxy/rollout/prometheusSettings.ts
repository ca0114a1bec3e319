/**
 * Settings of the Prometheus metric source (prometheusSource.ts), as the stack config gives them under
 * `rollout.prometheus`, validated before anything is queried; defaults are resolved here.
 */
import { DEFAULTS } from "../../defaults";
import { redactPassword } from "../runtime/endpoint";
import { quote, RuntimeInputError } from "../runtime/validate";

/** What the Prometheus source is given. */
export interface PrometheusSettings {
    /** Base URL of Prometheus, e.g. `http://127.0.0.1:9090` or `https://host/prometheus`: http or https, no credentials. */
    url: string;
    /** Each load balancer's name → the `instance` label Prometheus gives the scrape target of its HAProxy exporter. */
    instances: Record<string, string>;
    /** The `job` label of those targets. @default any job */
    job?: string;
    /** Timeout of every HTTP call to Prometheus, in ms (1..60000). @default 5000 (`DEFAULTS.rollout.prometheusTimeoutMs`) */
    timeoutMs?: number;
}

/** Settings checked, defaults applied. */
export type ResolvedPrometheusSettings = Required<Omit<PrometheusSettings, "job">> & Pick<PrometheusSettings, "job">;

const FIELD = "rollout.prometheus";
/** Label values: printable, no control characters, at most 256 characters. */
const LABEL_VALUE = /^[^\u0000-\u001f\u007f]{1,256}$/;

/** Checks `settings`; throws `RuntimeInputError` naming the first bad field (`rollout.prometheus.url`, ...). */
export function resolvePrometheusSettings(settings: PrometheusSettings): ResolvedPrometheusSettings {
    const url = validateUrl(`${FIELD}.url`, settings?.url);
    const instances = settings.instances;
    if (typeof instances !== "object" || instances === null || Array.isArray(instances) || Object.keys(instances).length === 0) {
        throw new RuntimeInputError(`${FIELD}.instances`, instances, "an object: load balancer name → the instance label of its exporter target");
    }
    for (const [lb, instance] of Object.entries(instances)) labelValue(`${FIELD}.instances.${lb}`, instance);
    const job = settings.job === undefined ? undefined : labelValue(`${FIELD}.job`, settings.job);
    const timeoutMs = settings.timeoutMs ?? DEFAULTS.rollout.prometheusTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
        throw new RuntimeInputError(`${FIELD}.timeoutMs`, timeoutMs, "a whole number of ms from 1 to 60000");
    }
    return { url, instances: { ...instances }, job, timeoutMs };
}

/** Those of `loadBalancers` that `instances` gives no instance label: each must have one. */
export function withoutInstance(instances: Record<string, unknown> | undefined, loadBalancers: string[]): string[] {
    return loadBalancers.filter((lb) => !(lb in (instances ?? {})));
}

/** What a load balancer without an instance label is told. */
export const INSTANCE_MISSING = "the instance label of that load balancer's exporter target";

/** An http:// or https:// URL without user name, password, query or fragment; returned without a trailing `/`. */
function validateUrl(field: string, value: unknown): string {
    const expected = "an http:// or https:// URL without credentials, query or fragment, e.g. http://127.0.0.1:9090";
    if (typeof value !== "string") throw new RuntimeInputError(field, value, expected);
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new RuntimeInputError(field, redactPassword(value), expected);
    }
    if (url.username !== "" || url.password !== "") {
        throw new RuntimeInputError(field, redactPassword(value), `${expected} (no user name or password in the URL)`);
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
        throw new RuntimeInputError(field, value, expected);
    }
    return url.href.replace(/\/+$/, "");
}

function labelValue(field: string, value: unknown): string {
    if (typeof value !== "string" || !LABEL_VALUE.test(value)) {
        throw new RuntimeInputError(field, value, `1 to 256 characters without control characters, e.g. ${quote("127.0.0.1:8405")}`);
    }
    return value;
}
