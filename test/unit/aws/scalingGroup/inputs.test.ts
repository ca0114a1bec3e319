/**
 * Input checks of the scaling-group providers and of the values that reach the AWS API: a bad value is a
 * failure naming its field and what is allowed, from `check`, before any call.
 */
import * as assert from "node:assert/strict";
import { validateEndpoint, validateGroupName, validateInstanceId, validateProcesses } from "../../../../src/targets/aws/scalingGroup/autoScalingApi";
import groupInstances from "../../../../src/targets/aws/scalingGroup/groupInstancesProvider";
import scalingHold from "../../../../src/targets/aws/scalingGroup/scalingHoldProvider";
import scalingRelease from "../../../../src/targets/aws/scalingGroup/scalingReleaseProvider";
import { UNKNOWN } from "../../../../src/provider/previewValues";

const aws = { region: "eu-west-1", endpoint: "http://127.0.0.1:5000" };

describe("aws scaling group: values sent to the API", () => {
    it("takes instance ids i- and 8 to 17 lowercase hex digits only", () => {
        assert.equal(validateInstanceId("id", "i-0123456789abcdef0"), "i-0123456789abcdef0");
        assert.equal(validateInstanceId("id", "i-12345678"), "i-12345678");
        for (const bad of ["i-1234567", "i-0123456789ABCDEF0", "i-0123456789abcdef01", "0123456789", "i-12345678 ", 7]) {
            assert.throws(() => validateInstanceId("leaving[0]", bad), /^RuntimeInputError: leaving\[0\]: .* is not allowed; expected an EC2 instance id/);
        }
    });

    it("takes group names of printable ASCII without ':' and processes from the documented list", () => {
        assert.equal(validateGroupName("groupName", "shop-prod-web-g2"), "shop-prod-web-g2");
        for (const bad of ["", "a:b", "a b", "x".repeat(256), "é"]) assert.throws(() => validateGroupName("groupName", bad), /groupName/);
        assert.deepEqual(validateProcesses("processes", ["Launch", "InstanceRefresh"]), ["Launch", "InstanceRefresh"]);
        assert.throws(() => validateProcesses("processes", ["Launch", "Scale"]), /^RuntimeInputError: processes\[1\]: "Scale" is not allowed; expected a list of distinct scaling processes from Launch, Terminate/);
        assert.throws(() => validateProcesses("processes", ["Launch", "Launch"]), /distinct/);
    });

    it("takes a region and an http(s) endpoint", () => {
        assert.deepEqual(validateEndpoint("aws", { region: "us-gov-west-1" }), { region: "us-gov-west-1" });
        assert.throws(() => validateEndpoint("aws", { region: "Europe" }), /aws\.region/);
        assert.throws(() => validateEndpoint("aws", { region: "eu-west-1", endpoint: "ftp://x" }), /aws\.endpoint/);
    });
});

describe("aws scaling group: providers' check", () => {
    const check = (p: typeof groupInstances, news: Record<string, unknown>) => (p.check as NonNullable<typeof p.check>)({}, news);

    it("GroupInstances: names the bad field", async () => {
        assert.deepEqual((await check(groupInstances, { aws, groupName: "web-g2", timeoutMs: 1000, intervalMs: 100 })).failures, undefined);
        const { failures } = await check(groupInstances, { aws, groupName: "web:g2", timeoutMs: 1000, intervalMs: 100 });
        assert.equal(failures?.[0].property, "groupName");
        assert.equal((await check(groupInstances, { aws, groupName: "web-g2", timeoutMs: 0, intervalMs: 100 })).failures?.[0].property, "timeoutMs");
        assert.equal((await check(groupInstances, { aws, groupName: UNKNOWN, timeoutMs: 0, intervalMs: 100 })).failures, undefined);
    });

    it("ScalingHold: owner, generations and processes", async () => {
        const good = { aws, owner: "shop/prod/web", keepGenerations: ["g2"], processes: ["Launch"] };
        assert.equal((await check(scalingHold, good)).failures, undefined);
        assert.equal((await check(scalingHold, { ...good, owner: "" })).failures?.[0].property, "owner");
        assert.equal((await check(scalingHold, { ...good, keepGenerations: "g2" })).failures?.[0].property, "keepGenerations");
        assert.equal((await check(scalingHold, { ...good, processes: [] })).failures?.[0].property, "processes");
    });

    it("ScalingRelease: bounds and leaving ids", async () => {
        const good = { aws, groupName: "web-g2", processes: ["Launch"], minSize: 1, maxSize: 3, leaving: [] };
        assert.equal((await check(scalingRelease, good)).failures, undefined);
        assert.equal((await check(scalingRelease, { ...good, minSize: 4 })).failures?.[0].property, "maxSize");
        assert.equal((await check(scalingRelease, { ...good, leaving: ["i-xyz"] })).failures?.[0].property, "leaving[0]");
    });
});
