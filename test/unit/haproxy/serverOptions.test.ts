import * as assert from "node:assert/strict";
import { parseAddr } from "../../../src/haproxy/runtime/client";
import { SessionWatch } from "../../../src/haproxy/watchSessions";
import { optionProblems, type BackendView } from "../../../src/haproxy/preflight";
import { disagreementsWithDefaultServer, parseDefaultServer, serverKeywords, validateServerOptions, type ServerOptions } from "../../../src/haproxy/serverOptions";
import { drainedLine, parseServersFile, renderServerLine, renderServersFile } from "../../../src/haproxy/serversFile";
import { acceptsCookieOnAddServer, parseVersion } from "../../../src/haproxy/runtime/versions";
import { RuntimeInputError } from "../../../src/haproxy/runtime/validate";
import { parseDeploymentConfig } from "../../../program/config";
import { planMembership } from "../../../src/plan";
import { deploymentSettings } from "../../../program/targets";

const TLS: ServerOptions = { ssl: true, verify: "required", caFile: "/etc/haproxy/ca.pem", sni: "app.internal", alpn: ["h2", "http/1.1"], maxconn: 64 };

describe("server options", () => {
    it("formats every option in HAProxy's words, the same for add server and the servers file", () => {
        const options = validateServerOptions("options", {
            ...TLS,
            checkSsl: true,
            checkSni: "app.internal",
            maxqueue: 10,
            slowstartMs: 2000,
            sendProxy: "v2",
            agent: { port: 9999, interMs: 1000 },
            cookie: true,
        });
        const words = serverKeywords({ addr: "10.0.0.1:8080", weight: 1, check: { enabled: true, inter: 500, fastinter: 100, rise: 2, fall: 3 }, options, cookie: "app-g2-0" });
        assert.equal(
            words.join(" "),
            "10.0.0.1:8080 weight 1 maxconn 64 maxqueue 10 slowstart 2000 send-proxy-v2 ssl verify required ca-file /etc/haproxy/ca.pem " +
                "sni str(app.internal) alpn h2,http/1.1 check inter 500 fastinter 100 rise 2 fall 3 check-ssl check-sni app.internal " +
                "agent-check agent-port 9999 agent-inter 1000 cookie app-g2-0",
        );
        const line = renderServerLine({ name: "app-g2-0", address: "10.0.0.1", port: 8080, weight: 1, check: { enabled: true, inter: 500, fastinter: 100, rise: 2, fall: 3 }, options, cookie: "app-g2-0", state: "ready" });
        assert.equal(line, `    server app-g2-0 ${words.join(" ")}`);
    });

    it("with ssl, health checks are over TLS too (check-ssl): add server does not imply it as a configured server does", () => {
        const words = serverKeywords({ addr: "10.0.0.1:8443", check: { enabled: true }, options: { ssl: true } });
        assert.equal(words.join(" "), "10.0.0.1:8443 ssl check check-ssl");
        assert.equal(serverKeywords({ addr: "10.0.0.1:8443", check: { enabled: false }, options: { ssl: true } }).join(" "), "10.0.0.1:8443 ssl");
    });

    it("names the keyword of every bad option", () => {
        const rejects = (value: unknown, field: string) =>
            assert.throws(() => validateServerOptions("options", value), (err: RuntimeInputError) => err instanceof RuntimeInputError && err.field === field);
        rejects({ tls: true }, "options.tls");
        rejects({ ssl: "yes" }, "options.ssl");
        rejects({ ssl: true, verify: "maybe" }, "options.verify");
        rejects({ ssl: true, verify: "required" }, "options.caFile");
        rejects({ ssl: true, caFile: "relative/ca.pem" }, "options.caFile");
        rejects({ ssl: true, caFile: "/etc/ca.pem;show stat" }, "options.caFile");
        rejects({ ssl: true, sni: "a b" }, "options.sni");
        rejects({ ssl: true, alpn: ["h2,http/1.1 check"] }, "options.alpn");
        rejects({ sni: "app.internal" }, "options.sni");
        rejects({ maxconn: 0 }, "options.maxconn");
        rejects({ sendProxy: "v3" }, "options.sendProxy");
        rejects({ agent: { port: 70000 } }, "options.agent.port");
        rejects({ cookie: "SRV" }, "options.cookie");
    });

    it("reads a default-server line and names what disagrees", () => {
        const line = "    default-server maxconn 64 ssl verify required ca-file /etc/haproxy/ca.pem slowstart 2s inter 1s";
        const { options, others } = parseDefaultServer(line);
        assert.deepEqual(options, { maxconn: 64, ssl: true, verify: "required", caFile: "/etc/haproxy/ca.pem", slowstartMs: 2000 });
        assert.deepEqual(others, ["inter", "1s"]);
        assert.deepEqual(disagreementsWithDefaultServer({ ...TLS, slowstartMs: 2000 }, options), []);
        const problems = disagreementsWithDefaultServer({ maxconn: 32 }, options);
        assert.deepEqual(problems.map((p) => p.split(":")[0]), ["ssl", "verify", "caFile", "maxconn", "slowstartMs"]);
    });

    it("the pre-flight fails on a setting every other server has and the new one lacks, and on cookie persistence", () => {
        const view: BackendView = {
            defaultServerLines: [],
            servers: [
                { stat: { pxname: "app", svname: "web1", slim: 64, qlimit: 10 }, state: { be_name: "app", srv_name: "web1", srv_use_ssl: 1, srv_agent_port: 0 } },
                { stat: { pxname: "app", svname: "web2", slim: 64, qlimit: 10 }, state: { be_name: "app", srv_name: "web2", srv_use_ssl: 1, srv_agent_port: 0 } },
            ],
            backendRow: { pxname: "app", svname: "BACKEND", cookie: "SRV" },
        };
        assert.deepEqual(optionProblems({}, view).map((p) => p.split(":")[0]), ["options.ssl", "options.maxconn", "options.maxqueue", "options.cookie"]);
        // A different value on purpose (a new generation changes it) is no disagreement.
        assert.deepEqual(optionProblems({ ...TLS, maxconn: 128, maxqueue: 5, cookie: true }, view), []);
        assert.deepEqual(optionProblems({ cookie: true }, { defaultServerLines: [], servers: [], backendRow: { pxname: "app", svname: "BACKEND" } }).map((p) => p.split(":")[0]), ["options.cookie"]);
        assert.deepEqual(optionProblems({}, { ...view, servers: [], defaultServerLines: ["    default-server maxconn 64"] }).map((p) => p.split(":")[0]), ["options.maxconn", "options.cookie"]);
    });

    it("the servers file keeps the operator's default-server line and own server lines", () => {
        const text = renderServersFile({ backend: "app", backendDefaults: "backend-app" }, new Map([["web1", "    server web1 10.0.0.1:80 check weight 3 cookie w1"]]), ["    default-server maxconn 64"]);
        const parsed = parseServersFile("/f", text, { backend: "app", backendDefaults: "backend-app" });
        assert.deepEqual(parsed.settings, ["    default-server maxconn 64"]);
        assert.equal(drainedLine(parsed.servers.get("web1")!), "    server web1 10.0.0.1:80 check weight 0 cookie w1");
        assert.equal(drainedLine("    server web2 10.0.0.2:80 check"), "    server web2 10.0.0.2:80 check weight 0");
        assert.throws(() => parseServersFile("/f", `${text}    balance roundrobin\n`, { backend: "app" }), /unexpected line "balance roundrobin"/);
    });

    it("knows which versions take cookie on add server", () => {
        assert.deepEqual(parseVersion("2.6.12-1+deb12u1"), { major: 2, minor: 6 });
        assert.equal(acceptsCookieOnAddServer("2.6.12-1+deb12u1"), false);
        assert.equal(acceptsCookieOnAddServer("3.0.11-1"), true);
        assert.equal(acceptsCookieOnAddServer("3.2.26"), true);
        assert.equal(acceptsCookieOnAddServer(undefined), false);
    });

    it("parses addr as show stat prints it", () => {
        assert.deepEqual(parseAddr("10.0.0.1:8080"), { address: "10.0.0.1", port: 8080 });
        assert.deepEqual(parseAddr("[::1]:8080"), { address: "::1", port: 8080 });
        assert.throws(() => parseAddr("nonsense"));
    });

    it("a drain ends after the quiet period and the minimum drain time", () => {
        const watch = new SessionWatch({ quietPeriodMs: 2000, minimumMs: 5000 }, 0);
        const seen = (at: number, sessions: number, stot: number) => watch.see({ process: "1@1", sessions, stot, outOfRotation: true }, at);
        assert.equal(seen(500, 1, 10), undefined, "a session in flight");
        assert.equal(seen(1000, 0, 10), 1000, "zero from here");
        assert.equal(watch.quietEnough(2999), false, "quiet for 1999 ms");
        assert.equal(seen(3000, 0, 11), 3000, "a short request between two polls (stot moved) restarts the quiet period");
        assert.equal(watch.quietEnough(4999), false);
        assert.equal(watch.quietEnough(5000), true, "quiet for 2000 ms, and drained for the minimum 5000 ms");
        assert.equal(watch.see({ process: "2@2", sessions: 0, stot: 0, outOfRotation: true }, 5100), 3000, "another process's stot is not compared");
        assert.equal(watch.see({ process: "2@2", sessions: 0, stot: 0, outOfRotation: false }, 5200), undefined, "back in rotation");
    });
});

describe("server options in the stack config", () => {
    const base = { generation: "g2", haproxy: { loadBalancers: [{ name: "lb1", frontendPort: 18080 }] }, database: { migration: { version: "0001" } } };

    it("per deployment, overridden per generation", () => {
        const config = parseDeploymentConfig({
            ...base,
            haproxy: { ...base.haproxy, serverOptions: { maxconn: 64, cookie: true }, generations: { g2: { serverOptions: { maxconn: 128 } } } },
        });
        assert.deepEqual(planMembership(deploymentSettings(config), "g2").options, { maxconn: 128, cookie: true });
        assert.deepEqual(planMembership(deploymentSettings(config), "g1").options, { maxconn: 64, cookie: true });
    });

    it("a bad option names its config key", () => {
        assert.throws(
            () => parseDeploymentConfig({ ...base, haproxy: { ...base.haproxy, serverOptions: { maxconn: "lots" } } }),
            /haproxy\.serverOptions\.maxconn: .*"lots" is not allowed; expected an integer/,
        );
        assert.throws(() => parseDeploymentConfig({ ...base, haproxy: { ...base.haproxy, serverOptions: { weird: 1 } } }), /haproxy\.serverOptions\.weird/);
    });

    it("the drain's quiet period and minimum, and adopt", () => {
        const config = parseDeploymentConfig({ ...base, haproxy: { ...base.haproxy, adopt: ["web1", "web2"], drain: { quietPeriodSeconds: 5, minimumSeconds: 30 } } });
        assert.deepEqual([config.haproxy.drain.quietPeriodSeconds, config.haproxy.drain.minimumSeconds, config.haproxy.adopt], [5, 30, ["web1", "web2"]]);
        assert.equal(parseDeploymentConfig(base).haproxy.drain.quietPeriodSeconds, 2);
        assert.throws(() => parseDeploymentConfig({ ...base, haproxy: { ...base.haproxy, drain: { timeoutSeconds: 10, minimumSeconds: 10 } } }), /haproxy\.drain\.minimumSeconds/);
        assert.throws(() => parseDeploymentConfig({ ...base, haproxy: { ...base.haproxy, runtimeOnly: true, adopt: ["web1"] } }), /haproxy\.adopt: needs servers files/);
    });
});
