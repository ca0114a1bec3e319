/**
 * Test harness: Debian's real Prometheus (/usr/bin/prometheus) scraping HAProxy exporters (lab/haproxy.ts
 * with `prometheusExporter`) every second, on a free loopback port, its config and storage in a temp dir.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports";
import { requireBinary, startProcess } from "./process";

export const PROMETHEUS = "/usr/bin/prometheus";
/** The `job` label of the scrape targets. */
export const PROMETHEUS_JOB = "haproxy";
/** How long Prometheus may take to show what HAProxy counted (it scrapes every 1 s). */
export const SCRAPED_WITHIN_MS = 30_000;

export interface RunningPrometheus {
    /** `http://127.0.0.1:<port>`, its HTTP API's base URL. */
    readonly url: string;
    /** Stops the process and removes its temp dir. */
    stop(): Promise<void>;
}

/** The `instance` label Prometheus gives the target scraping `metricsUrl` (a lab HAProxy's `metricsUrl`): its `host:port`. */
export function instanceOf(metricsUrl: string): string {
    return new URL(metricsUrl).host;
}

/**
 * Starts Prometheus scraping `/metrics` of each of `targets` (`host:port`) every second, job `haproxy`,
 * and waits until it is ready (not until it has scraped: wait on what it shows). Fails saying how to
 * install it when it cannot run.
 */
export async function startPrometheus(targets: string[]): Promise<RunningPrometheus> {
    requireBinary(PROMETHEUS, ["--version"], "bash scripts/setup.sh");
    const dir = await mkdtemp(join(tmpdir(), "prometheus-test-"));
    try {
        const config = join(dir, "prometheus.yml");
        await writeFile(
            config,
            [
                "global:",
                "  scrape_interval: 1s",
                "  scrape_timeout: 1s",
                "scrape_configs:",
                `  - job_name: ${PROMETHEUS_JOB}`,
                "    metrics_path: /metrics",
                "    static_configs:",
                `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
                "",
            ].join("\n"),
        );
        const url = `http://127.0.0.1:${await freePort()}`;
        const process = await startProcess(
            PROMETHEUS,
            [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=${new URL(url).host}`],
            async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200,
        );
        return {
            url,
            async stop() {
                await process.stop();
                await rm(dir, { recursive: true, force: true });
            },
        };
    } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
    }
}
