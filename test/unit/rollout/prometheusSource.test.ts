/**
 * The Prometheus source's queries and what it makes of the replies, on replies captured from Debian's
 * Prometheus 2.42 scraping a real HAProxy 2.6 exporter (test/fixtures/prometheus, see
 * prometheusApi.test.ts): backend `app`, web1 answered three 200s, web2 three 500s; `show stat` said
 * hrsp_2xx 3 / hrsp_5xx 3 and rtime 5 / 4 ms, the exporter 0.001 s for both (it averages over 1024).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseQueryReply, type Sample } from "../../../src/haproxy/rollout/prometheusApi";
import { buildQueries, missingSeries, readings, type Scrape } from "../../../src/haproxy/rollout/prometheusSource";

const INSTANCE = "127.0.0.1:40303";
const samples = (name: string) => parseQueryReply(name, 200, readFileSync(join(__dirname, "../../fixtures/prometheus", name), "utf8"));

/** The fixtures' scrape, for `servers` on lb1 (and lb2 when given its instance). */
function scrape(over: Partial<Scrape> = {}): Scrape {
    return {
        description: "Prometheus at http://p:9090",
        backend: "app",
        servers: ["web1", "web2"],
        lbs: [{ lb: "lb1", instance: INSTANCE }],
        at: 1796317396296,
        queries: ["SERVERS", "PROCESS"],
        serverSamples: samples("servers.json"),
        processSamples: samples("process.json"),
        ...over,
    };
}

describe("prometheusSource", () => {
    it("asks for the exporter's raw counters of those servers, every value escaped", () => {
        assert.deepEqual(buildQueries("app", ["web1", "web.2"], [INSTANCE, "h:1"], "haproxy"), [
            '{__name__=~"haproxy_server_http_responses_total|haproxy_server_response_errors_total|haproxy_server_connection_errors_total|' +
                'haproxy_server_retry_warnings_total|haproxy_server_redispatch_warnings_total|haproxy_server_response_time_average_seconds",' +
                'proxy="app",server=~"web1|web\\\\.2",instance=~"127\\\\.0\\\\.0\\\\.1:40303|h:1",job="haproxy"}',
            'haproxy_process_start_time_seconds{instance=~"127\\\\.0\\\\.0\\\\.1:40303|h:1",job="haproxy"}',
        ]);
        assert.equal(buildQueries("app", ["web1"], ['a"} or vector(1) #'])[1], 'haproxy_process_start_time_seconds{instance=~"a\\"\\\\} or vector\\\\(1\\\\) #"}');
    });

    it("refuses backend and server names that are not HAProxy names, and no servers", () => {
        assert.throws(() => buildQueries('app",x="', ["web1"], [INSTANCE]), /^RuntimeInputError: backend: "app\\",x=\\"" is not allowed/);
        assert.throws(() => buildQueries("app", ["web1", "a|b"], [INSTANCE]), /^RuntimeInputError: servers\[1\]: "a\|b" is not allowed/);
        assert.throws(() => buildQueries("app", [], [INSTANCE]), /^RuntimeInputError: servers: .* expected at least one server/);
    });

    it("reads each server's counters: codes summed, 5xx alone, retries and redispatches added, seconds to ms", () => {
        assert.deepEqual(readings(scrape()), [
            {
                lb: "lb1",
                process: `${INSTANCE} started 1796317390`,
                at: 1796317396296,
                servers: new Map([
                    ["web1", { responses: 3, responses5xx: 0, responseErrors: 0, connectionErrors: 0, retries: 0, responseTimeMs: 1 }],
                    ["web2", { responses: 3, responses5xx: 3, responseErrors: 0, connectionErrors: 0, retries: 0, responseTimeMs: 1 }],
                ]),
            },
        ]);
    });

    it("leaves out a server lacking a series, and gives a response time it does not know as undefined", () => {
        const serverSamples = scrape().serverSamples.filter((s) => !(s.labels.server === "web2" && s.labels.__name__ === "haproxy_server_retry_warnings_total"));
        for (const s of serverSamples) if (s.labels.server === "web1" && s.labels.__name__.endsWith("_seconds")) s.value = NaN;
        const [reading] = readings(scrape({ serverSamples }));
        assert.deepEqual([...reading.servers.keys()], ["web1"]);
        assert.equal(reading.servers.get("web1")?.responseTimeMs, undefined);
    });

    it("fails a read of an instance without a process start time, naming the load balancer and the query", () => {
        assert.throws(
            () => readings(scrape({ lbs: [{ lb: "lb1", instance: INSTANCE }, { lb: "lb2", instance: "h:2" }] })),
            new Error('Prometheus at http://p:9090: no haproxy_process_start_time_seconds series for load balancer lb2 (instance "h:2"), queried: PROCESS'),
        );
    });

    it("fails on a series that comes twice (two jobs scrape the exporter)", () => {
        const twice: Sample[] = [...samples("servers.json"), ...samples("servers.json").map((s) => ({ ...s, labels: { ...s.labels, job: "other" } }))];
        assert.throws(() => readings(scrape({ serverSamples: twice })), /more than one series of haproxy_server_connection_errors_total for app\/web1 on instance "127.0.0.1:40303": set rollout.prometheus.job/);
        const processTwice = [...samples("process.json"), ...samples("process.json")];
        assert.throws(() => readings(scrape({ processSamples: processTwice })), /more than one series of haproxy_process_start_time_seconds on instance "127.0.0.1:40303"/);
    });

    it("lists what is missing, per load balancer and server", () => {
        assert.deepEqual(missingSeries(scrape()), []);
        const serverSamples = scrape().serverSamples.filter((s) => !(s.labels.server === "web2" && (s.labels.code === "5xx" || s.labels.__name__ === "haproxy_server_response_errors_total")));
        assert.deepEqual(missingSeries(scrape({ servers: ["web1", "web2", "web9"], serverSamples, lbs: [{ lb: "lb1", instance: INSTANCE }, { lb: "lb2", instance: "h:2" }] })), [
            'lb1 (instance "127.0.0.1:40303"): app/web2: no haproxy_server_http_responses_total{code="5xx"}, haproxy_server_response_errors_total',
            'lb1 (instance "127.0.0.1:40303"): app/web9: no series of any metric',
            'lb2 (instance "h:2"): no haproxy_process_start_time_seconds',
            'lb2 (instance "h:2"): app/web1: no series of any metric',
            'lb2 (instance "h:2"): app/web2: no series of any metric',
            'lb2 (instance "h:2"): app/web9: no series of any metric',
        ]);
    });
});
