/**
 * Bad aws stack configs: `parseDeploymentConfig` refuses each with a message naming the key, and
 * reports several problems of one config together.
 */
import * as assert from "node:assert/strict";
import { ConfigError, parseDeploymentConfig } from "../../../components/config";
import { rawAwsConfig, rawAwsConfigWith } from "./program";

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
});
