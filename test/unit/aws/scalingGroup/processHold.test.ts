/**
 * processHold.ts's pure part: the held-by tag's record (format, parse, refusal of what is not one),
 * which groups a hold selects, and what it suspends and owns on a group.
 */
import * as assert from "node:assert/strict";
import type { GroupDescription } from "../../../../src/targets/aws/scalingGroup/autoScalingApi";
import { formatHoldRecord, holdPlan, isSelected, parseHoldRecord } from "../../../../src/targets/aws/scalingGroup/processHold";

const group = (tags: Record<string, string>, suspendedProcesses: string[] = []): GroupDescription => ({ groupName: "web-g1", desiredCapacity: 2, minSize: 2, maxSize: 2, instances: [], suspendedProcesses, tags });

describe("aws scaling group: hold records", () => {
    it("formats a record as <holdId>:<processes in the documented order>, and parses it back", () => {
        const value = formatHoldRecord({ holdId: "hold-1b2c", processes: ["Terminate", "Launch"] });
        assert.equal(value, "hold-1b2c:Launch,Terminate");
        assert.deepEqual(parseHoldRecord("web-g1", value), { holdId: "hold-1b2c", processes: ["Launch", "Terminate"] });
        assert.deepEqual(parseHoldRecord("web-g1", "hold-1b2c:"), { holdId: "hold-1b2c", processes: [] });
    });

    it("refuses a tag that is not a record, naming the group and the tag", () => {
        for (const value of ["", "no-colon", "hold-1:Launch,Bogus", ":Launch", "hold-1:Launch,Launch"]) {
            assert.throws(() => parseHoldRecord("web-g1", value), /^Error: group web-g1: its bluegreen:held-by tag .* is not a hold record/, value);
        }
    });

    it("refuses a hold id with ':' and a record longer than a tag value", () => {
        assert.throws(() => formatHoldRecord({ holdId: "a:b", processes: [] }), /holdId: "a:b" is not allowed/);
        assert.throws(() => formatHoldRecord({ holdId: `h${"x".repeat(200)}`, processes: [] }), /holdId/);
    });
});

describe("aws scaling group: hold selection and plan", () => {
    const owner = "shop/prod/web";
    it("selects the owner's groups whose generation is not kept", () => {
        const selection = { owner, keepGenerations: ["g3", "g2"] };
        assert.equal(isSelected(group({ "bluegreen:pool": owner, Generation: "g1" }), selection), true);
        assert.equal(isSelected(group({ "bluegreen:pool": owner, Generation: "g2" }), selection), false);
        assert.equal(isSelected(group({ "bluegreen:pool": "shop/staging/web", Generation: "g1" }), selection), false);
        assert.equal(isSelected(group({ Generation: "g1" }), selection), false);
    });

    it("suspends only what is not suspended yet, and owns only that", () => {
        assert.deepEqual(holdPlan(group({}, ["AZRebalance"]), ["Launch", "AZRebalance", "Terminate"]), { suspend: ["Launch", "Terminate"], owned: ["Launch", "Terminate"] });
    });

    it("takes another hold's record over: its processes become owned, plus what it suspends now", () => {
        const held = group({ "bluegreen:held-by": "hold-old:Launch,Terminate" }, ["Launch", "Terminate", "AZRebalance"]);
        assert.deepEqual(holdPlan(held, ["Launch", "Terminate", "HealthCheck"]), { suspend: ["HealthCheck"], owned: ["Launch", "Terminate", "HealthCheck"] });
    });
});
