/**
 * What the stack remembers across updates: the previous generation (rollback) and the warm standby.
 */
import * as assert from "node:assert/strict";
import { nextHistory } from "../../../src/generationHistory";

describe("generation history", () => {
    it("remembers nothing on the first update", () => {
        assert.deepEqual(nextHistory("g1", {}, true), {});
    });

    it("a flip remembers the generation it leaves, as previous and (with standby) as standby", () => {
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g1" }, true), { previous: "g1", standby: "g1" });
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g1" }, false), { previous: "g1" });
    });

    it("an update without a flip keeps what was remembered", () => {
        const last = { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1", resourceLayout: "generation" };
        assert.deepEqual(nextHistory("g2", last, true), { previous: "g1", standby: "g1" });
    });

    it("a stack made before PoolMembership keeps its per-server memberships until it flips", () => {
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g2", previousGeneration: "g1" }, false), { previous: "g1", perServerResources: true });
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g2", resourceLayout: "server" }, false), { perServerResources: true });
        assert.deepEqual(nextHistory("g3", { activeGeneration: "g2" }, false), { previous: "g2" }, "the flip moves to a PoolMembership");
        assert.deepEqual(nextHistory("g3", { activeGeneration: "g3", previousGeneration: "g2", resourceLayout: "generation" }, false), { previous: "g2" });
    });

    it("flipping back swaps active and standby", () => {
        assert.deepEqual(nextHistory("g1", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }, true), { previous: "g2", standby: "g2" });
    });

    it("turning standby off drops the standby on the next update", () => {
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1", resourceLayout: "generation" }, false), { previous: "g1" });
    });
});
