/**
 * A progressive rollout (rollout.ts) judged on Prometheus's counters: a real HAProxy (lab/haproxy.ts,
 * its exporter on a second frontend, a servers file) with two old and two new real app servers, scraped
 * every second by Debian's real Prometheus (lab/prometheus.ts), while a steady trickle of requests goes
 * through the frontend. The stable generation is another resource of the same stack
 * (`o/p/s members-g1`), attached as its membership attaches it.
 *
 * In order: a wrong instance label fails the pre-flight; a new generation answering 500 fails the
 * analysis and goes back; a good one goes to 100%, the old generation kept at weight 0.
 */
import assert from "node:assert/strict";
import { get } from "node:http";
import { readFile } from "node:fs/promises";
import { startHaproxy, type RunningHaproxy } from "../../../lab/haproxy";
import { startHttpServer, type TestHttpServer } from "../../../lab/httpServer";
import { instanceOf, PROMETHEUS_JOB, SCRAPED_WITHIN_MS, startPrometheus, type RunningPrometheus } from "../../../lab/prometheus";
import { waitFor } from "../../../lab/wait";
import { resolveMembershipSpec, type LoadBalancerRef, type MembershipSpec } from "../../../src/haproxy/membershipSpec";
import { attach } from "../../../src/haproxy/membershipSteps";
import type { ServerOwner } from "../../../src/haproxy/ownership";
import { prometheusSource } from "../../../src/haproxy/rollout/prometheusSource";
import { rollOut, RolloutFailedError } from "../../../src/haproxy/rollout/rollout";
import { resolveRollout, type RolloutSpec } from "../../../src/haproxy/rollout/rolloutSpec";
import { RuntimeClient } from "../../../src/haproxy/runtime/client";
import { setProgressSink } from "../../../src/provider/providerLog";

const STACK = "o/p/s";
const owner = (resource: string): ServerOwner => ({ stack: STACK, resource });
const OLD = ["app-g1-0", "app-g1-1"];
/** Requests a second through the frontend while a rollout runs. */
const REQUESTS_PER_SECOND = 40;

/** Steady GETs through `url` (no keep-alive) until `stop()`, which resolves with every status once all have ended (0: no answer). */
function steadyTraffic(url: string): { stop(): Promise<number[]> } {
    const statuses: number[] = [];
    const pending = new Set<Promise<void>>();
    const timer = setInterval(() => {
        const done = new Promise<void>((resolve) => {
            get(url, { agent: false }, (res) => {
                res.resume();
                res.on("end", () => {
                    statuses.push(res.statusCode ?? 0);
                    resolve();
                });
                res.on("error", () => {
                    statuses.push(0);
                    resolve();
                });
            }).on("error", () => {
                statuses.push(0);
                resolve();
            });
        });
        pending.add(done);
        void done.then(() => pending.delete(done));
    }, 1000 / REQUESTS_PER_SECOND);
    return {
        async stop() {
            clearInterval(timer);
            await Promise.all(pending);
            return statuses;
        },
    };
}

describe("A progressive rollout judged on a real Prometheus scraping HAProxy's exporter", function () {
    this.timeout(120_000);
    const apps: TestHttpServer[] = [];
    let oldApps: TestHttpServer[];
    let newApps: TestHttpServer[];
    let lb: RunningHaproxy | undefined;
    let prometheus: RunningPrometheus | undefined;
    let client: RuntimeClient;
    let lbs: LoadBalancerRef[];
    let instance: string;
    const log: string[] = [];

    /** The membership spec of `app` as server `server`, owned by `resource` of the stack. */
    function spec(server: string, app: TestHttpServer, resource: string): MembershipSpec {
        return resolveMembershipSpec({
            loadBalancers: lbs,
            backend: "app",
            server,
            address: app.host,
            port: app.port,
            owner: owner(resource),
            check: { enabled: true, inter: 100, rise: 1, fall: 2 },
            attachTimeoutMs: 10_000,
            drain: { pollIntervalMs: 50, timeoutMs: 10_000, quietPeriodMs: 0 },
        });
    }

    /** Generation `g`'s members (`app-g<g>-0`, `app-g<g>-1` on the two new app servers), owned by `members-g<g>`. */
    function generation(g: number): MembershipSpec[] {
        return newApps.map((app, i) => spec(`app-g${g}-${i}`, app, `members-g${g}`));
    }

    /** The rollout of the brief, its counters from Prometheus under `instanceLabel` (default: the right one). */
    function rolloutSpec(instanceLabel = instance): RolloutSpec {
        return resolveRollout("rollout", {
            steps: [
                { percent: 50, bakeMs: 3000 },
                { percent: 100, bakeMs: 3000 },
            ],
            analysis: { windowMs: 1500, minRequests: 5, inconclusiveExtensionMs: 10_000 },
            prometheus: { url: prometheus?.url, instances: { lb1: instanceLabel }, job: PROMETHEUS_JOB },
        });
    }

    /** `srv_uweight` (the configured weight) of every server of the backend, by name. */
    async function weights(): Promise<Record<string, number | undefined>> {
        const rows = await client.showServersState("app");
        return Object.fromEntries(rows.filter((r) => r.be_name === "app").map((r) => [r.srv_name, r.srv_uweight]));
    }

    /** Names of the backend's servers in `show stat`, sorted. */
    async function statServers(): Promise<string[]> {
        return (await client.showStat("app")).filter((r) => r.svname !== "BACKEND").map((r) => r.svname).sort();
    }

    /** The server lines of the servers file, by name. */
    async function serverLines(): Promise<Map<string, string>> {
        const text = await readFile((lb as RunningHaproxy).serversFile, "utf8");
        return new Map(text.split("\n").flatMap((l) => {
            const m = /^\s+server (\S+) /.exec(l);
            return m ? [[m[1], l.trim()] as [string, string]] : [];
        }));
    }

    /** The old generation serves alone, at weight 1, its lines as its membership wrote them; no new server is left. */
    async function assertOldGenerationAlone(): Promise<void> {
        assert.deepEqual(await statServers(), OLD);
        assert.deepEqual(await weights(), { "app-g1-0": 1, "app-g1-1": 1 });
        const lines = await serverLines();
        assert.deepEqual([...lines.keys()].sort(), OLD);
        for (const name of OLD) {
            const line = lines.get(name) as string;
            assert.ok(line.endsWith(`# owner ${STACK} members-g1`), line);
            assert.ok(!line.includes("full-weight"), line);
        }
    }

    before(async () => {
        setProgressSink((m) => log.push(m));
        for (const name of ["old-0", "old-1", "new-0", "new-1"]) apps.push(await startHttpServer(name));
        oldApps = apps.slice(0, 2);
        newApps = apps.slice(2);
        lb = await startHaproxy({ prometheusExporter: true });
        client = new RuntimeClient(lb.unixAdmin);
        lbs = [{ name: "lb1", endpoint: lb.unixAdmin, serversFile: lb.serversFile, backendDefaults: lb.backendDefaults }];
        instance = instanceOf(lb.metricsUrl as string);
        prometheus = await startPrometheus([instance]);

        await attach(
            oldApps.map((app, i) => spec(OLD[i], app, "members-g1")),
            lbs,
        );
        const source = prometheusSource(rolloutSpec().prometheus as NonNullable<RolloutSpec["prometheus"]>);
        await waitFor(() => source.preflight("app", OLD, ["lb1"]).then(() => true), { what: "Prometheus to have scraped the old generation", timeoutMs: SCRAPED_WITHIN_MS, intervalMs: 200 });
        await assertOldGenerationAlone();
    });

    after(async () => {
        setProgressSink(undefined);
        await client?.close();
        await prometheus?.stop();
        await lb?.stop();
        await Promise.all(apps.map((a) => a.stop()));
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed") console.log(`rollout progress:\n  ${log.join("\n  ")}`);
        log.length = 0;
    });

    it("fails at the pre-flight when the instance label is wrong, before anything changes: the new generation never attached, the old one at weight 1", async () => {
        await assert.rejects(rollOut(generation(2), lbs, rolloutSpec("127.0.0.1:1")), (err: Error) => {
            assert.match(err.message, new RegExp(`Prometheus at ${prometheus?.url} has no series for what the rollout reads of backend app`));
            assert.ok(err.message.includes(`lb1 (instance "127.0.0.1:1"): no haproxy_process_start_time_seconds`), err.message);
            return true;
        });
        await assertOldGenerationAlone();
    });

    it("goes back when the new generation answers 500: its servers removed, the old ones at weight 1 again", async () => {
        newApps.forEach((a) => a.setStatus(500));
        const traffic = steadyTraffic(`${(lb as RunningHaproxy).frontendUrl}/`);
        let outcome: unknown;
        try {
            await rollOut(generation(2), lbs, rolloutSpec());
        } catch (err) {
            outcome = err;
        } finally {
            const statuses = await traffic.stop();
            newApps.forEach((a) => a.setStatus(200));
            assert.ok(statuses.length > 0);
            assert.ok(statuses.every((s) => s === 200 || s === 500), `only 200s and the new generation's 500s: ${[...new Set(statuses)]}`);
        }
        assert.ok(outcome instanceof RolloutFailedError, `rollOut rejects with RolloutFailedError, got ${String(outcome)}`);
        assert.match(outcome.message, /step 1\/2 \(50%\): (the analysis failed|.*errors in the new generation's first)/);
        assert.match(outcome.message, /the stable generation back at full weight and the new one at weight 0 .*the new generation drained and detached/s);
        await assertOldGenerationAlone();
    });

    it("goes to 100% when the new generation is good: no failed request, new servers at weight 1, old ones at 0 with full-weight 1", async () => {
        const traffic = steadyTraffic(`${(lb as RunningHaproxy).frontendUrl}/`);
        const members = generation(3);
        let statuses: number[];
        try {
            await rollOut(members, lbs, rolloutSpec());
        } finally {
            statuses = await traffic.stop();
        }
        assert.ok(statuses.length >= 6 * REQUESTS_PER_SECOND * 0.5, `traffic ran: ${statuses.length} requests`);
        assert.deepEqual(statuses.filter((s) => s !== 200), [], "no failed request");
        assert.ok(log.some((l) => /step 2\/2 \(100%\): passed 2 windows/.test(l)), log.join("\n"));

        assert.deepEqual(await statServers(), [...OLD, "app-g3-0", "app-g3-1"]);
        assert.deepEqual(await weights(), { "app-g1-0": 0, "app-g1-1": 0, "app-g3-0": 1, "app-g3-1": 1 });
        const lines = await serverLines();
        for (const name of OLD) assert.match(lines.get(name) as string, /# owner o\/p\/s members-g1 full-weight 1$/);
        for (const m of members) assert.match(lines.get(m.server) as string, /# owner o\/p\/s members-g3$/);
    });
});
