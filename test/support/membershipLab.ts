/**
 * The fixture of the Membership provider's integration tests: two real load balancers from the HAProxy
 * harness (production shape: master-worker, servers file, state file), app servers started per test,
 * the provider's progress lines, and the provider's inputs for a server. Call it inside a `describe`:
 * it registers that suite's hooks. Each test starts as an update of its own: no membership has announced
 * today's settings (todaysSettings.ts). After each test, the memberships it created are taken out
 * (forced, so a failed test leaves nothing to the next) and its app servers are stopped.
 */
import * as assert from "node:assert/strict";
import provider, { type MembershipOutputs } from "../../src/haproxy/membershipProvider";
import { setProgressSink } from "../../src/provider/providerLog";
import { forgetAnnouncedSettings } from "../../src/haproxy/todaysSettings";
import { startHaproxy, type HaproxyOptions, type RunningHaproxy } from "../../lab/haproxy";
import { startHttpServer, startHttpsServer, type TestHttpServer, type TlsIdentity } from "../../lab/httpServer";

export interface MembershipLab {
    /** The two load balancers (filled in before the first test). */
    readonly lbs: RunningHaproxy[];
    /** Every progress line of the provider so far. */
    readonly log: string[];
    /** Starts an app server (HTTPS with `tls`) that is stopped after the test. */
    appServer(name: string, tls?: TlsIdentity): Promise<TestHttpServer>;
    /** The load balancers as membership inputs, reached through `endpoint` (default: the admin UNIX socket). */
    lbRefs(endpoint?: (lb: RunningHaproxy) => string): Record<string, unknown>[];
    /** The inputs of a membership of `server` on both load balancers, with `extra` on top. */
    inputs(server: TestHttpServer, extra?: Record<string, unknown>): Record<string, unknown>;
    /** `check` (which must pass) then `create`, as the engine calls them; returns the outputs. */
    create(inputs: Record<string, unknown>): Promise<MembershipOutputs>;
}

/**
 * `settings` are the `check` and `drain` inputs every membership of the suite starts from, and
 * `haproxy` the options of both load balancers (asked for when they start, after the suite's earlier
 * `before` hooks). @default haproxy: the harness's defaults
 */
export function membershipLab(settings: { check: Record<string, unknown>; drain: Record<string, unknown>; haproxy?: () => HaproxyOptions }): MembershipLab {
    const lbs: RunningHaproxy[] = [];
    const log: string[] = [];
    const servers: TestHttpServer[] = [];
    const created: MembershipOutputs[] = [];

    before(async () => {
        const options = settings.haproxy?.() ?? {};
        lbs.push(...(await Promise.all([startHaproxy(options), startHaproxy(options)])));
        setProgressSink((m) => log.push(m));
    });
    after(async () => {
        setProgressSink(undefined);
        await Promise.all(lbs.map((lb) => lb.stop()));
    });
    beforeEach(forgetAnnouncedSettings);
    afterEach(async () => {
        forgetAnnouncedSettings(); // the forced clean-up below is not overridden by the test's settings
        for (const outs of created.splice(0)) {
            await provider.delete!(`app/${outs.server}`, { ...outs, drain: { ...outs.drain, timeoutMs: 100, onTimeout: "force" } }).catch(() => undefined);
        }
        await Promise.all(servers.splice(0).map((s) => s.stop()));
    });

    const lbRefs = (endpoint = (lb: RunningHaproxy) => lb.unixAdmin) =>
        lbs.map((lb, i) => ({ name: `lb${i + 1}`, endpoint: endpoint(lb), serversFile: lb.serversFile, backendDefaults: lb.backendDefaults }));
    return {
        lbs,
        log,
        lbRefs,
        async appServer(name, tls) {
            const s = await (tls ? startHttpsServer(name, tls) : startHttpServer(name));
            servers.push(s);
            return s;
        },
        inputs(server, extra = {}) {
            return {
                loadBalancers: lbRefs(),
                backend: "app",
                server: server.name,
                address: server.host,
                port: server.port,
                check: settings.check,
                attachTimeoutMs: 10_000,
                drain: settings.drain,
                ...extra,
            };
        },
        async create(inputs) {
            const { inputs: checked, failures } = await provider.check!({}, inputs);
            assert.deepEqual(failures ?? [], []);
            const outs = (await provider.create(checked)).outs as MembershipOutputs;
            created.push(outs);
            return outs;
        },
    };
}
