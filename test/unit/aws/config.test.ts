/**
 * Bad aws stack configs: `parseDeploymentConfig` refuses each with a message naming the key, and
 * reports several problems of one config together.
 */
import * as assert from "node:assert/strict";
import { ConfigError, parseDeploymentConfig } from "../../../program/config";
import { DEFAULTS } from "../../../src/defaults";
import { DATABASE_HOST_KEYS, LB_HOST_KEY, LB_HOST_KEY_SHA256, rawAwsConfig, rawAwsConfigWith } from "./program";

const base = rawAwsConfig() as {
    pool: Record<string, unknown>;
    haproxy: { loadBalancers: Record<string, unknown>[]; drain: Record<string, unknown> } & Record<string, unknown>;
};
const [lb1, lb2] = base.haproxy.loadBalancers;

/** `rawAwsConfig()` with other haproxy settings. */
const withHaproxy = (changes: Record<string, unknown>) => rawAwsConfigWith({ haproxy: { ...base.haproxy, ...changes } });

/** The message of the ConfigError `raw` raises. */
function problemsOf(raw: Record<string, unknown>): string {
    try {
        parseDeploymentConfig(raw);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return err.message;
    }
    return assert.fail("the config was accepted");
}

const badConfigs: { what: string; raw: Record<string, unknown>; message: string }[] = [
    { what: "missing aws block", raw: rawAwsConfigWith({ aws: undefined }), message: "haproxy-bluegreen:aws: is required on the aws target" },
    { what: "bad generation label", raw: rawAwsConfigWith({ generation: "G-1" }), message: "haproxy-bluegreen:generation: is invalid" },
    { what: "canarySize >= size", raw: rawAwsConfigWith({ canarySize: 3 }), message: "canarySize: is 3 but the pool has 3 servers" },
    { what: "duplicate load balancer names", raw: withHaproxy({ loadBalancers: [lb1, { ...lb2, name: lb1.name }] }), message: `haproxy.loadBalancers.1.name: "lb-prod-1" is used twice` },
    { what: "endpoint missing on aws", raw: withHaproxy({ loadBalancers: [lb1, { ...lb2, endpoint: undefined }] }), message: "haproxy.loadBalancers.1.endpoint: is required on the aws target" },
    { what: "frontendUrl missing on aws", raw: withHaproxy({ loadBalancers: [{ ...lb1, frontendUrl: undefined }] }), message: "haproxy.loadBalancers.0.frontendUrl: is required on the aws target" },
    { what: "frontendPort on aws", raw: withHaproxy({ loadBalancers: [{ ...lb1, frontendPort: 18080 }] }), message: "haproxy.loadBalancers.0.frontendPort: is for the local target only" },
    { what: "unknown key", raw: rawAwsConfigWith({ pool: { ...base.pool, sise: 3 } }), message: "pool.sise: unknown key" },
    { what: "rollout steps not ending at 100", raw: withHaproxy({ rollout: { steps: [{ percent: 10, bakeSeconds: 60 }] } }), message: "haproxy.rollout.steps.0.percent: is 10: the last step must be 100" },
    { what: "rollout percents not rising", raw: withHaproxy({ rollout: { steps: [{ percent: 50, bakeSeconds: 60 }, { percent: 20, bakeSeconds: 60 }, { percent: 100, bakeSeconds: 60 }] } }), message: "haproxy.rollout.steps.1.percent: is 20, not above the step before (50)" },
    { what: "rollout bake shorter than a window", raw: withHaproxy({ rollout: { steps: [{ percent: 100, bakeSeconds: 5 }] } }), message: "haproxy.rollout.steps.0.bakeSeconds: is 5, shorter than one analysis window (haproxy.rollout.analysis.windowSeconds 10)" },
    { what: "rollout prometheus without an instance for a load balancer", raw: withHaproxy({ rollout: { prometheus: { url: "http://prom:9090", instances: { [lb1.name as string]: "a" } } } }), message: `haproxy.rollout.prometheus.instances.${lb2.name}: is missing` },
    { what: "rollout onInconclusive invalid", raw: withHaproxy({ rollout: { analysis: { onInconclusive: "promote" } } }), message: "haproxy.rollout.analysis.onInconclusive: is invalid" },
    { what: "rollout prometheus url with a password", raw: withHaproxy({ rollout: { prometheus: { url: "http://u:hunter2@prom:9090", instances: { [lb1.name as string]: "a", [lb2.name as string]: "b" } } } }), message: "(no user name or password in the URL)" },
    { what: "drain.onTimeout invalid", raw: withHaproxy({ drain: { ...base.haproxy.drain, onTimeout: "wait" } }), message: "haproxy.drain.onTimeout: is invalid" },
    { what: "image missing on aws", raw: rawAwsConfigWith({ pool: { ...base.pool, spec: { ...(base.pool.spec as object), image: undefined } } }), message: "pool.spec.image: is required on the aws target" },
    { what: "an app ref git would read as an option", raw: rawAwsConfigWith({ pool: { ...base.pool, spec: { ...(base.pool.spec as object), appRef: "--x" } } }), message: "pool.spec.appRef: is invalid" },
    { what: "a database volume that is not an EBS volume", raw: rawAwsConfigWith({ database: { ...(rawAwsConfig().database as object), volume: "db" } }), message: `database.volume: "db" must be an EBS volume id` },
    { what: "the healthcheck drain on aws", raw: withHaproxy({ drain: { ...base.haproxy.drain, method: "healthcheck" } }), message: "haproxy.drain.method: healthcheck is for the local target only" },
    { what: "subnet that is not a subnet id", raw: rawAwsConfigWith({ aws: { ...(rawAwsConfig().aws as object), subnetIds: ["10.0.0.0/24"] } }), message: "aws.subnetIds.0: is invalid" },
];

describe("aws stack config: refused configs", function () {
    it("accepts the realistic aws config", function () {
        assert.equal(parseDeploymentConfig(rawAwsConfig()).target, "aws");
    });

    for (const { what, raw, message } of badConfigs) {
        it(`refuses ${what}`, function () {
            const text = problemsOf(raw);
            assert.ok(text.includes(message), `expected "${message}" in:\n${text}`);
            assert.match(text, /\(1 problem\):/);
        });
    }

    it("maps haproxy.rollout to the membership's rollout in ms, with the defaults", function () {
        const config = parseDeploymentConfig(withHaproxy({ rollout: { steps: [{ percent: 25, bakeSeconds: 30 }, { percent: 100, bakeSeconds: 45 }], analysis: { windowSeconds: 5 } } }));
        const { rolloutInput } = require("../../../program/config") as typeof import("../../../program/config");
        const input = rolloutInput(config.haproxy.rollout!);
        assert.deepEqual(input.steps, [{ percent: 25, bakeMs: 30_000 }, { percent: 100, bakeMs: 45_000 }]);
        assert.equal(input.analysis?.windowMs, 5000);
        assert.equal(input.analysis?.maxErrorRate, DEFAULTS.rollout.analysis.maxErrorRate);
        assert.equal(input.analysis?.inconclusiveExtensionMs, DEFAULTS.rollout.analysis.inconclusiveExtensionMs);
    });

    it("reports every problem of the schema at once", function () {
        const text = problemsOf({
            ...withHaproxy({ drain: { ...base.haproxy.drain, onTimeout: "wait" } }),
            generation: "G-1",
            colour: "blue",
        });
        for (const part of ["generation: is invalid", "colour: unknown key", "haproxy.drain.onTimeout: is invalid"]) {
            assert.ok(text.includes(part), `expected "${part}" in:\n${text}`);
        }
        assert.match(text, /\(3 problems\):/);
    });

    it("reports every cross-field problem at once", function () {
        const text = problemsOf({
            ...withHaproxy({ loadBalancers: [lb1, { ...lb2, name: lb1.name, endpoint: undefined }] }),
            canarySize: 3,
            aws: undefined,
        });
        for (const part of [
            "aws: is required on the aws target",
            "canarySize: is 3 but the pool has 3 servers",
            `haproxy.loadBalancers.1.name: "lb-prod-1" is used twice`,
            "haproxy.loadBalancers.1.endpoint: is required on the aws target",
        ]) {
            assert.ok(text.includes(part), `expected "${part}" in:\n${text}`);
        }
        assert.match(text, /\(4 problems\):/);
    });

    it("quotes each key's help from the schema, through lists and maps, with the default as the example where there is one", function () {
        const spec = base.pool.spec as Record<string, unknown>;
        const text = problemsOf({
            ...withHaproxy({ drain: { ...base.haproxy.drain, pollIntervalMs: 5 }, serverOptions: { maxconn: -1 } }),
            pool: { ...base.pool, spec: { ...spec, inputs: { FEATURE_X: "a\nb" } } },
            forgetLoadBalancers: ["LB3"],
        });
        for (const part of [
            `haproxy.drain.pollIntervalMs: is invalid: Too small: expected number to be >=50 (allowed: milliseconds from 50 to 10000; example: ${DEFAULTS.membership.drain.pollIntervalMs})`,
            "pool.spec.inputs.FEATURE_X: is invalid: Invalid input (allowed: a string without newlines or NUL; example: on)",
            "forgetLoadBalancers.0: is invalid: Invalid string: must match pattern /^[a-z][a-z0-9-]{0,23}$/ (allowed: a load balancer name; example: lb3)",
        ]) {
            assert.ok(text.includes(part), `expected "${part}" in:\n${text}`);
        }
        assert.match(text, /haproxy\.serverOptions\.maxconn: [^\n]*[^)]$/m, "no help for a key inside serverOptions");
        assert.match(text, /\(4 problems\):/);
    });
});

describe("aws stack config: SSH host keys", function () {
    /** `rawAwsConfig()` without any host key, with `changes` on top. */
    const withoutKeys = (changes: Record<string, unknown> = {}) => rawAwsConfigWith({ sshKnownHosts: undefined, ...changes });
    const lbs = (extra: Record<string, unknown>[]) => ({ ...base.haproxy, loadBalancers: [{ ...lb1, ...extra[0] }, { ...lb2, ...extra[1] }] });

    it("refuses ssh:// load balancers and the database host without a verifiable key, naming each key to set", function () {
        const text = problemsOf(withoutKeys());
        for (const part of [
            "haproxy.loadBalancers.0.sshHostKeySha256: the SSH host 10.30.1.10 has no host key to verify: set this, sshHostKeySha256 (every host) or add the output of `ssh-keyscan 10.30.1.10` to sshKnownHosts, or set sshAllowUnknownHostKeys: true",
            "haproxy.loadBalancers.1.sshHostKeySha256: the SSH host 10.30.1.11 has no host key to verify",
            "(allowed: an OpenSSH host key fingerprint as `ssh-keygen -lf` prints it: SHA256:<43 base64 characters>; example: SHA256:",
            "sshKnownHosts: has no line for aws.databaseHost 10.30.2.5, whose host key the migration's SSH connection verifies: add the output of `ssh-keyscan 10.30.2.5`",
            "(allowed: OpenSSH known_hosts lines `host[,host2] keytype base64key` as ssh-keyscan prints them",
        ]) {
            assert.ok(text.includes(part), `expected "${part}" in:\n${text}`);
        }
        assert.match(text, /\(3 problems\):/);
    });

    it("accepts per-load-balancer fingerprints plus a known_hosts line for the database host", function () {
        const cfg = parseDeploymentConfig(
            withoutKeys({ haproxy: lbs([{ sshHostKeySha256: LB_HOST_KEY_SHA256 }, { sshHostKeySha256: LB_HOST_KEY_SHA256 }]), sshKnownHosts: `10.30.2.5 ${DATABASE_HOST_KEYS.ed25519}\n` }),
        );
        assert.deepEqual(cfg.haproxy.loadBalancers.map((lb) => lb.sshHostKeySha256), [LB_HOST_KEY_SHA256, LB_HOST_KEY_SHA256]);
        assert.equal(cfg.sshAllowUnknownHostKeys, false, "the default");
    });

    it("a global sshHostKeySha256 covers the load balancers but not the database host", function () {
        const text = problemsOf(withoutKeys({ sshHostKeySha256: LB_HOST_KEY_SHA256 }));
        assert.ok(text.includes("sshKnownHosts: has no line for aws.databaseHost 10.30.2.5"), text);
        assert.ok(!text.includes("haproxy.loadBalancers."), text);
        assert.match(text, /\(1 problem\):/);
    });

    it("known_hosts lines for the load balancers' [host]:port when their endpoints name a port", function () {
        const onPort = lbs([{ endpoint: "ssh://deploy@10.30.1.10:2222/run/haproxy/admin.sock" }, {}]);
        const text = problemsOf(rawAwsConfigWith({ haproxy: onPort }));
        assert.ok(text.includes("haproxy.loadBalancers.0.sshHostKeySha256: the SSH host [10.30.1.10]:2222 has no host key to verify"), text);
        assert.ok(text.includes("`ssh-keyscan -p 2222 10.30.1.10`"), text);
        assert.match(text, /\(1 problem\):/);
        const known = `[10.30.1.10]:2222 ${LB_HOST_KEY}\n10.30.1.11 ${LB_HOST_KEY}\n10.30.2.5 ${DATABASE_HOST_KEYS.ecdsa}\n`;
        assert.equal(parseDeploymentConfig(rawAwsConfigWith({ haproxy: onPort, sshKnownHosts: known })).sshKnownHosts, known);
    });

    it("sshAllowUnknownHostKeys: true accepts hosts without keys", function () {
        assert.equal(parseDeploymentConfig(withoutKeys({ sshAllowUnknownHostKeys: true })).sshAllowUnknownHostKeys, true);
    });

    const badKeys: { what: string; raw: Record<string, unknown>; message: string }[] = [
        { what: "a load balancer fingerprint that is not SHA256", raw: rawAwsConfigWith({ haproxy: lbs([{ sshHostKeySha256: "MD5:aa:bb" }, {}]) }), message: "haproxy.loadBalancers.0.sshHostKeySha256: is invalid" },
        { what: "a global fingerprint that is not SHA256", raw: rawAwsConfigWith({ sshHostKeySha256: "SHA256:short" }), message: "sshHostKeySha256: is invalid" },
        { what: "a wildcard known_hosts line", raw: rawAwsConfigWith({ sshKnownHosts: `*.example.com ${LB_HOST_KEY}` }), message: "sshKnownHosts: is invalid: line 1: host pattern \"*.example.com\": wildcard and negated patterns are not supported" },
        { what: "a @cert-authority line", raw: rawAwsConfigWith({ sshKnownHosts: `# CA\n@cert-authority 10.30.2.5 ${LB_HOST_KEY}` }), message: "sshKnownHosts: is invalid: line 2: markers (@cert-authority, @revoked) are not supported" },
        { what: "sshAllowUnknownHostKeys as a string", raw: rawAwsConfigWith({ sshAllowUnknownHostKeys: "yes" }), message: "sshAllowUnknownHostKeys: is invalid" },
        { what: "an ssh:// endpoint that does not parse", raw: withoutKeys({ haproxy: lbs([{ endpoint: "ssh://deploy@10.30.1.10" }, { sshHostKeySha256: LB_HOST_KEY_SHA256 }]), sshKnownHosts: `10.30.2.5 ${LB_HOST_KEY}` }), message: "haproxy.loadBalancers.0.endpoint: is invalid: the URL: \"ssh://deploy@10.30.1.10\" is not allowed" },
    ];

    for (const { what, raw, message } of badKeys) {
        it(`refuses ${what}`, function () {
            const text = problemsOf(raw);
            assert.ok(text.includes(message), `expected "${message}" in:\n${text}`);
            assert.match(text, /\(1 problem\):/);
        });
    }
});
