/**
 * prometheusSource against a real HAProxy (lab/haproxy.ts, its Prometheus exporter on a second frontend)
 * with two real HTTP servers, scraped every second by Debian's real Prometheus (lab/prometheus.ts:
 * /usr/bin/prometheus on a free port, its storage in a temp dir). What `read()` returns is compared
 * with `show stat`.
 */
import assert from "node:assert/strict";
import { startHaproxy, type RunningHaproxy } from "../../../lab/haproxy";
import { fetchText, startHttpServer, type TestHttpServer } from "../../../lab/httpServer";
import { instanceOf, PROMETHEUS_JOB, SCRAPED_WITHIN_MS, startPrometheus, type RunningPrometheus } from "../../../lab/prometheus";
import { waitFor } from "../../../lab/wait";
import type { CounterReading, MetricSource, ServerCounters } from "../../../src/haproxy/rollout/counters";
import { prometheusSource } from "../../../src/haproxy/rollout/prometheusSource";
import { parseCsv } from "../../../src/haproxy/runtime/parsers";
import { adminCommand } from "../../../src/targets/local/haproxyControl";

const SERVERS = ["web1", "web2"];
const POLL = { timeoutMs: SCRAPED_WITHIN_MS, intervalMs: 200 };

/** The `show stat` columns of `backend`'s servers, by server name. */
async function showStat(lb: RunningHaproxy, backend: string): Promise<Map<string, Record<string, number>>> {
    const [header, ...rows] = parseCsv(await adminCommand(lb.adminSocket, `show stat ${backend} 4 -1`));
    const columns = [header[0].replace(/^# /, ""), ...header.slice(1)];
    return new Map(rows.map((row) => [row[1], Object.fromEntries(columns.map((c, i) => [c, Number(row[i])]))]));
}

/** What `show stat` says a server's counters are (but `rtime`: the exporter averages it differently, see below). */
function expectedCounters(stat: Record<string, number>): Omit<ServerCounters, "responseTimeMs"> {
    const codes = ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"];
    return {
        responses: codes.reduce((sum, c) => sum + stat[c], 0),
        responses5xx: stat.hrsp_5xx,
        responseErrors: stat.eresp,
        connectionErrors: stat.econ,
        retries: stat.wretr + stat.wredis,
    };
}

describe("prometheusSource against a real Prometheus scraping HAProxy's exporter", () => {
    let web1: TestHttpServer | undefined;
    let web2: TestHttpServer | undefined;
    let lb: RunningHaproxy;
    let prometheus: RunningPrometheus | undefined;
    let source: MetricSource;
    let instance: string;
    let promUrl: string;

    before(async () => {
        web1 = await startHttpServer("web1");
        web2 = await startHttpServer("web2");
        lb = await startHaproxy({
            prometheusExporter: true,
            serversFileLines: [`server web1 127.0.0.1:${web1.port}`, `server web2 127.0.0.1:${web2.port}`],
        });
        instance = instanceOf(lb.metricsUrl as string);
        prometheus = await startPrometheus([instance]);
        promUrl = prometheus.url;
        source = prometheusSource({ url: promUrl, instances: { lb1: instance }, job: PROMETHEUS_JOB });
    });

    after(async () => {
        await prometheus?.stop();
        await lb?.stop();
        await web1?.stop();
        await web2?.stop();
    });

    it("reads each server's counters as show stat counts them, 5xx of one server included", async () => {
        web2?.setStatus(500);
        const statuses: number[] = [];
        for (let i = 0; i < 10; i++) statuses.push((await fetchText(`${lb.frontendUrl}/slow?ms=5`)).status);
        assert.deepEqual(statuses.sort(), [200, 200, 200, 200, 200, 500, 500, 500, 500, 500]);
        const stat = await showStat(lb, "app");
        const expected = new Map(SERVERS.map((s) => [s, expectedCounters(stat.get(s) as Record<string, number>)]));
        assert.equal(expected.get("web2")?.responses5xx, 5);

        const [reading] = await waitFor(async () => {
            const r = await source.read("app", SERVERS, ["lb1"]);
            return r[0]?.servers.get("web2")?.responses === 5 && r[0]?.servers.get("web1")?.responses === 5 ? r : undefined;
        }, { what: "Prometheus to show the 10 responses", ...POLL });
        assert.equal(reading.lb, "lb1");
        assert.deepEqual([...reading.servers.keys()].sort(), SERVERS);
        for (const server of SERVERS) {
            const { responseTimeMs, ...counted } = reading.servers.get(server) as ServerCounters;
            assert.deepEqual(counted, expected.get(server), server);
            // `show stat` averages rtime over the requests so far (fewer than 1024), the exporter always over
            // 1024: it reads lower until a process has answered 1024 requests.
            assert.ok(responseTimeMs !== undefined && responseTimeMs >= 0 && responseTimeMs <= (stat.get(server) as Record<string, number>).rtime, `${server} rtime ${responseTimeMs}`);
        }
    });

    it("passes the preflight for servers it has, fails it naming a server without series and a wrong instance", async () => {
        await waitFor(() => source.preflight("app", SERVERS, ["lb1"]).then(() => true), { what: "the preflight to pass", ...POLL });

        await assert.rejects(source.preflight("app", ["web1", "web9"], ["lb1"]), (err: Error) => {
            assert.match(err.message, new RegExp(`^Prometheus at ${promUrl} has no series for what the rollout reads of backend app:`));
            assert.ok(err.message.includes(`lb1 (instance "${instance}"): app/web9: no series of any metric`), err.message);
            assert.ok(!err.message.includes("app/web1"), err.message);
            assert.ok(err.message.includes(`queried: {__name__=~"haproxy_server_http_responses_total|`), err.message);
            return true;
        });

        const wrong = prometheusSource({ url: promUrl, instances: { lb1: "127.0.0.1:1" } });
        await assert.rejects(wrong.preflight("app", SERVERS, ["lb1"]), (err: Error) => {
            assert.ok(err.message.includes(`lb1 (instance "127.0.0.1:1"): no haproxy_process_start_time_seconds`), err.message);
            assert.ok(err.message.includes(`lb1 (instance "127.0.0.1:1"): app/web1: no series of any metric`), err.message);
            assert.ok(err.message.includes(`haproxy_process_start_time_seconds{instance=~"127\\\\.0\\\\.0\\\\.1:1"}`), err.message);
            return true;
        });
        // A label value that would end the string literal if it were not escaped: Prometheus takes the query.
        const quoted = prometheusSource({ url: promUrl, instances: { lb1: `${instance}"} or vector(1) or {a="` } });
        await assert.rejects(quoted.preflight("app", SERVERS, ["lb1"]), /lb1 \(instance ".*"\): no haproxy_process_start_time_seconds/);
        await assert.rejects(wrong.read("app", SERVERS, ["lb1"]), /no haproxy_process_start_time_seconds series for load balancer lb1 \(instance "127\.0\.0\.1:1"\)/);
    });

    it("says another process counted after a reload, its counters started again", async () => {
        const first = await waitFor(() => source.read("app", SERVERS, ["lb1"]).then(([r]) => r), { what: "a reading", ...POLL });
        // The exporter gives the start time in whole seconds: reload once the old process's second is over.
        const startedSecond = Number(first.process.split(" ").pop());
        await waitFor(() => (Date.now() >= (startedSecond + 1) * 1000 ? true : undefined), { what: "the start second to pass" });
        await lb.reload();
        const reloaded: CounterReading = await waitFor(
            () => source.read("app", SERVERS, ["lb1"]).then(([r]) => (r.process !== first.process ? r : undefined)),
            { what: "Prometheus to show the new process", ...POLL },
        );
        assert.ok(Number(reloaded.process.split(" ").pop()) > startedSecond, reloaded.process);
        assert.deepEqual(SERVERS.map((s) => reloaded.servers.get(s)?.responses), [0, 0]);
    });
});
