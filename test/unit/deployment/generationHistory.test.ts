/** What the stack remembers across updates: the previous generation (rollback) and the warm standby. */
import * as assert from "node:assert/strict";
import { nextHistory } from "../../../src/generationHistory";

describe("generation history", () => {
    it("remembers nothing on the first update", () => {
        assert.deepEqual(nextHistory("g1", {}, true), {});
    });

    it("a flip remembers the generation it leaves, as previous and (with standby) as standby", () => {
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g1" }, true), { remembered: ["g1"], previous: "g1", standby: "g1" });
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g1" }, false), { remembered: ["g1"], previous: "g1" });
    });

    it("an update without a flip keeps what was remembered", () => {
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }, true), { remembered: ["g2", "g1"], previous: "g1", standby: "g1" });
    });

    it("flipping back swaps active and standby", () => {
        assert.deepEqual(nextHistory("g1", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }, true), { remembered: ["g2", "g1"], previous: "g2", standby: "g2" });
    });

    it("turning standby off drops the standby on the next update", () => {
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }, false), { remembered: ["g2", "g1"], previous: "g1" });
    });

    it("records what the stack served and remembered at the last update (their builds are fixed: FrozenGenerations)", () => {
        assert.deepEqual(nextHistory("g3", { activeGeneration: "g2", previousGeneration: "g1" }, false).remembered, ["g2", "g1"]);
        assert.deepEqual(nextHistory("g1", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }, true).remembered, ["g2", "g1"]);
        assert.equal(nextHistory("g1", {}, false).remembered, undefined);
    });
});
