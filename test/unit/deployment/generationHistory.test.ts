/**
 * What the stack remembers across updates: the previous generation (rollback), the warm standby, and
 * which generations of a stack made before 0.2 keep one resource per server.
 */
import * as assert from "node:assert/strict";
import { nextHistory, type LastOutputs } from "../../../src/generationHistory";

/** Last outputs of a stack made since 0.2 (it exports perServerGenerations, here empty). */
const since02 = (last: LastOutputs): LastOutputs => ({ perServerGenerations: [], ...last });

describe("generation history", () => {
    it("remembers nothing on the first update", () => {
        assert.deepEqual(nextHistory("g1", {}, true), {});
    });

    it("a flip remembers the generation it leaves, as previous and (with standby) as standby", () => {
        assert.deepEqual(nextHistory("g2", since02({ activeGeneration: "g1" }), true), { remembered: ["g1"], previous: "g1", standby: "g1" });
        assert.deepEqual(nextHistory("g2", since02({ activeGeneration: "g1" }), false), { remembered: ["g1"], previous: "g1" });
    });

    it("an update without a flip keeps what was remembered", () => {
        assert.deepEqual(nextHistory("g2", since02({ activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }), true), { remembered: ["g2", "g1"], previous: "g1", standby: "g1" });
    });

    it("flipping back swaps active and standby", () => {
        assert.deepEqual(nextHistory("g1", since02({ activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }), true), { remembered: ["g2", "g1"], previous: "g2", standby: "g2" });
    });

    it("turning standby off drops the standby on the next update", () => {
        assert.deepEqual(nextHistory("g2", since02({ activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }), false), { remembered: ["g2", "g1"], previous: "g1" });
    });

    it("records what the stack served and remembered at the last update (their builds are fixed: FrozenGenerations)", () => {
        assert.deepEqual(nextHistory("g3", since02({ activeGeneration: "g2", previousGeneration: "g1" }), false).remembered, ["g2", "g1"]);
        assert.deepEqual(nextHistory("g1", since02({ activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }), true).remembered, ["g2", "g1"]);
        assert.equal(nextHistory("g1", {}, false).remembered, undefined);
    });

    it("a stack made before 0.2: the generations it remembers keep one resource per server while they are remembered", () => {
        // No flip: the serving generation (and the previous one, for a rollback) stay as they are.
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g2", previousGeneration: "g1" }, false), { remembered: ["g2", "g1"], previous: "g1", perServerGenerations: ["g2", "g1"] });
        // The flip builds g3 one resource per generation; g2, now previous (a rollback target), stays per server.
        assert.deepEqual(nextHistory("g3", { activeGeneration: "g2" }, false), { remembered: ["g2"], previous: "g2", perServerGenerations: ["g2"] });
        // A failed flip that recorded its outputs, then a rollback: g2 is found as it is.
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g3", previousGeneration: "g2", perServerGenerations: ["g2"] }, false), { remembered: ["g3", "g2"], previous: "g3", perServerGenerations: ["g2"] });
        // A warm standby made before 0.2 stays warm, as it is.
        assert.deepEqual(nextHistory("g3", { activeGeneration: "g2", standbyGeneration: "g1" }, true), { remembered: ["g2", "g1"], previous: "g2", standby: "g2", perServerGenerations: ["g2"] });
        // Once a generation is no longer remembered, it is gone from the list.
        assert.deepEqual(nextHistory("g4", { activeGeneration: "g3", previousGeneration: "g2", perServerGenerations: ["g2"] }, false), { remembered: ["g3", "g2"], previous: "g3" });
    });
});
