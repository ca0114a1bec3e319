/**
 * Frozen generations (runbook steps 5-6): what a generation is built from, and the refusal of a config
 * that would build a serving or remembered generation differently, by the provider's own `check`.
 */
import * as assert from "node:assert/strict";
import { generationBuild } from "../../../src/generations/build";
import provider, { nextRecords } from "../../../src/generations/frozenGenerationsProvider";
import type { DeploymentSettings } from "../../../src/plan";

const settings = (over: Partial<DeploymentSettings["pool"]> = {}, haproxy: DeploymentSettings["haproxy"] = {}): DeploymentSettings => ({
    generation: "g2",
    migrationVersion: "0001",
    pool: { size: 2, spec: { appRef: "v1.0.0", inputs: { GREETING: "hello", API_TOKEN: "s3cret-token" } }, generations: { g2: { appRef: "v1.1.0" } }, ...over },
    haproxy,
});

/** The provider's check of `news` against stored inputs `olds`. */
async function check(olds: Record<string, unknown>, news: Record<string, unknown>) {
    return provider.check!(olds, news);
}

describe("frozen generations", () => {
    it("records the resolved spec, port, server options and health check; inputs only as digests", () => {
        const build = generationBuild(settings({}, { serverOptions: { maxconn: 100 } }), "g2");
        assert.equal(build.appRef, "v1.1.0", "the generation's override wins over the shared spec");
        assert.equal(build.port, "8080");
        assert.equal(build["serverOptions.maxconn"], "100");
        assert.equal(build["healthCheck.path"], "/health");
        assert.match(build["inputs.API_TOKEN"], /^sha256:[0-9a-f]{64}$/);
        assert.ok(!JSON.stringify(build).includes("s3cret-token"), "no input value in the record");
        assert.notEqual(build["inputs.API_TOKEN"], generationBuild(settings({ spec: { appRef: "v1.0.0", inputs: { API_TOKEN: "other" } } }), "g2")["inputs.API_TOKEN"]);
    });

    it("a shared-spec change refuses the serving generation in check, naming the field and never showing an input's value", async () => {
        const frozen = { g2: generationBuild(settings(), "g2") };
        const changed = settings({ spec: { appRef: "v1.0.0", inputs: { GREETING: "hi", API_TOKEN: "s3cret-token" } } });
        const result = await check({ frozen }, { builds: { g2: generationBuild(changed, "g2") }, pinned: ["g2", "g1"] });
        assert.equal(result.failures?.length, 1);
        const reason = result.failures![0].reason;
        assert.match(reason, /generation g2 serves or is remembered/);
        assert.match(reason, /inputs\.GREETING \(pool\.spec\.inputs\.GREETING or pool\.generations\.g2\.inputs\.GREETING\)/);
        assert.match(reason, /set `generation` to a new label/);
        assert.doesNotMatch(reason, /"hi"/, "the new value of an input is not shown");
        assert.ok(!reason.includes("hello"), "the old value of an input is not shown");
        assert.doesNotMatch(reason, /appRef/, "unchanged fields are not named");
    });

    it("names a changed appRef with both values, and a server option", async () => {
        const frozen = { g2: generationBuild(settings(), "g2") };
        const changed = settings({ generations: { g2: { appRef: "v1.2.0" } } }, { serverOptions: { maxconn: 50 } });
        const result = await check({ frozen }, { builds: { g2: generationBuild(changed, "g2") }, pinned: ["g2"] });
        const reason = result.failures![0].reason;
        assert.match(reason, /appRef \(pool\.spec\.appRef or pool\.generations\.g2\.appRef\): built with "v1\.1\.0", now "v1\.2\.0"/);
        assert.match(reason, /serverOptions\.maxconn \(haproxy\.serverOptions\.maxconn or haproxy\.generations\.g2\.serverOptions\.maxconn\): built with \(unset\), now "50"/);
    });

    it("a flip to a new generation is not refused by a shared-spec change: the previous generation keeps its record", async () => {
        const g2 = generationBuild(settings(), "g2");
        const next = settings({ spec: { appRef: "v2.0.0" } });
        const result = await check({ frozen: { g2 } }, { builds: { g3: generationBuild(next, "g3") }, pinned: ["g2"] });
        assert.equal(result.failures, undefined);
        const records = result.inputs.frozen as Record<string, unknown>;
        assert.deepEqual(Object.keys(records), ["g2", "g3"]);
        assert.deepEqual(records.g2, g2, "g2 is recorded as it was built");
    });

    it("a generation that never served (a failed flip) is recorded again with the settings of its retry", () => {
        const failed = { g3: { appRef: "v2.0.0", "inputs.APP_FAIL_HEALTH": "sha256:x" } };
        const retry = { g3: { appRef: "v2.0.0" } };
        assert.deepEqual(nextRecords({ g2: { appRef: "v1" }, ...failed }, retry, ["g2"]), { g2: { appRef: "v1" }, g3: { appRef: "v2.0.0" } });
    });

    it("forgets generations that are neither pinned nor registered", () => {
        assert.deepEqual(nextRecords({ g1: { a: "1" }, g2: { a: "2" } }, { g3: { a: "3" } }, ["g2"]), { g2: { a: "2" }, g3: { a: "3" } });
    });

    it("only a new or changed record counts in diff: pinned generations may move, and a forgotten record waits for the next change", async () => {
        const frozen = { g2: { a: "2" } };
        assert.equal((await provider.diff!("id", { frozen, pinned: ["g1"] }, { frozen, pinned: ["g2", "g1"] })).changes, false);
        assert.equal((await provider.diff!("id", { frozen: { ...frozen, g1: { a: "1" } } }, { frozen })).changes, false);
        assert.equal((await provider.diff!("id", { frozen }, { frozen: { ...frozen, g3: { a: "3" } } })).changes, true);
        assert.equal((await provider.diff!("id", { frozen }, { frozen: { g2: { a: "2b" } } })).changes, true);
    });
});
