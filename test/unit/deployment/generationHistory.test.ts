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
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }, true), { previous: "g1", standby: "g1" });
    });

    it("flipping back swaps active and standby", () => {
        assert.deepEqual(nextHistory("g1", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }, true), { previous: "g2", standby: "g2" });
    });

    it("turning standby off drops the standby on the next update", () => {
        assert.deepEqual(nextHistory("g2", { activeGeneration: "g2", previousGeneration: "g1", standbyGeneration: "g1" }, false), { previous: "g1" });
    });
});
