/**
 * The committed stack files parse with the project's config schema, the way the program reads them.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { parseDeploymentConfig } from "../../../program/config";

const ROOT = join(__dirname, "..", "..", "..");
const NAMESPACE = "haproxy-bluegreen:";

/** The project's keys of a stack file, without the namespace, as `pulumi.Config` would return them. */
function projectKeys(stack: string): Record<string, unknown> {
    const file = stack === "local" ? join(ROOT, "program", "local-stack.yaml") : join(ROOT, `Pulumi.${stack}.yaml`);
    const doc = load(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(
        Object.entries(doc.config)
            .filter(([k]) => k.startsWith(NAMESPACE))
            .map(([k, v]) => [k.slice(NAMESPACE.length), v]),
    );
}

describe("stack files", () => {
    it("the local stack's template (program/local-stack.yaml) is a valid local config with two load balancers", () => {
        const cfg = parseDeploymentConfig(projectKeys("local"));
        assert.equal(cfg.target, "local");
        assert.equal(cfg.generation, "g1");
        assert.deepEqual(cfg.haproxy.loadBalancers.map((lb) => lb.name), ["lb1", "lb2"]);
    });

    for (const stack of ["staging", "prod"]) {
        it(`Pulumi.${stack}.yaml is a valid aws config`, () => {
            const cfg = parseDeploymentConfig(projectKeys(stack));
            assert.equal(cfg.target, "aws");
            assert.ok(cfg.haproxy.loadBalancers.every((lb) => lb.endpoint?.startsWith("ssh://") && lb.frontendUrl));
            assert.ok(cfg.aws?.subnetIds.length);
        });
    }

    it("prod runs more servers behind more load balancers than staging", () => {
        const staging = parseDeploymentConfig(projectKeys("staging"));
        const prod = parseDeploymentConfig(projectKeys("prod"));
        assert.ok(prod.pool.size > staging.pool.size);
        assert.ok(prod.haproxy.loadBalancers.length > staging.haproxy.loadBalancers.length);
    });
});
