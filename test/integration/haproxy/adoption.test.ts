/**
 * Adopting an existing fleet: a backend whose two servers the operator defined (in the servers file,
 * where the backend's section lives) is flipped to a new generation under live traffic. The new
 * generation attaches, then the Adoption provider drains and removes the fleet, as the deployment does
 * once the new generation serves; after a reload the old servers are still gone.
 */
import * as assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import adoption from "../../../src/haproxy/adoptionProvider";
import { RuntimeClient } from "../../../src/haproxy/runtime/client";
import { Traffic } from "../../../scripts/lib/traffic";
import type { RunningHaproxy } from "../../../lab/haproxy";
import type { TestHttpServer } from "../../../lab/httpServer";
import { membershipLab } from "../../support/membershipLab";

describe("Adoption of an existing fleet against real HAProxy", function () {
    this.timeout(180_000);
    const { lbs, log, appServer, lbRefs, inputs, create } = membershipLab({
        check: { enabled: true, inter: 100, rise: 1, fall: 2 },
        drain: { pollIntervalMs: 50, timeoutMs: 30_000, quietPeriodMs: 500 },
    });

    async function servers(lb: RunningHaproxy): Promise<string[]> {
        const client = new RuntimeClient(lb.unixAdmin);
        try {
            return (await client.showStat("app")).filter((r) => r.svname !== "BACKEND").map((r) => `${r.svname} ${r.status}`).sort();
        } finally {
            await client.close();
        }
    }

    /** The operator's own lines, as they would have moved their backend section into the servers file. */
    async function defineFleet(fleet: TestHttpServer[]): Promise<void> {
        for (const lb of lbs) {
            const text = await readFile(lb.serversFile, "utf8");
            const own = fleet.map((s) => `    server ${s.name} 127.0.0.1:${s.port} check inter 100 rise 1 fall 2`);
            await writeFile(lb.serversFile, `${text.trimEnd()}\n${own.join("\n")}\n`);
            await lb.reload("master");
        }
        await waitUntil(async () => (await Promise.all(lbs.map(servers))).every((s) => s.join() === "web1 UP,web2 UP"));
    }

    async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (!(await condition())) {
            if (Date.now() > deadline) throw new Error("condition not met in time");
            await new Promise((r) => setTimeout(r, 50));
        }
    }

    function adoptionInputs(names: string[]): Record<string, unknown> {
        return { loadBalancers: lbRefs(), backend: "app", servers: names, drain: { pollIntervalMs: 50, timeoutMs: 30_000, quietPeriodMs: 500 } };
    }

    it("the first flip adopts, drains and removes the static servers under load; after a reload they are still gone; 0 failed", async () => {
        const fleet = [await appServer("web1"), await appServer("web2")];
        await defineFleet(fleet);
        const load = new Traffic({ urls: lbs.map((lb) => lb.frontendUrl), ratePerSecond: 120, clients: 6, longRequestMs: 1500, longEveryMs: 500 });
        await new Promise((r) => setTimeout(r, 500));

        const next = [await appServer("app-g2-0"), await appServer("app-g2-1")];
        for (const server of next) await create(inputs(server));
        assert.deepEqual((await adoption.check!({}, adoptionInputs(["web1", "web2"]))).failures, undefined);
        const started = Date.now();
        const outs = (await adoption.create!(adoptionInputs(["web1", "web2"]))).outs;
        const retiredIn = Date.now() - started;
        assert.deepEqual(outs.retired, ["web1", "web2"]);
        for (const lb of lbs) {
            assert.deepEqual(await servers(lb), ["app-g2-0 UP", "app-g2-1 UP"]);
            assert.doesNotMatch(await readFile(lb.serversFile, "utf8"), /web[12]/, "the fleet's lines left the servers file");
        }
        const servedBefore = fleet.map((s) => s.requests);
        for (const lb of lbs) await lb.reload("master");
        await new Promise((r) => setTimeout(r, 700));
        for (const lb of lbs) assert.deepEqual(await servers(lb), ["app-g2-0 UP", "app-g2-1 UP"], "still gone after a reload");

        const result = await load.stop();
        assert.ok(result.total >= 300, `enough requests to mean something: ${result.total}`);
        assert.deepEqual(result.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
        assert.deepEqual(fleet.map((s) => s.requests), servedBefore, "the retired fleet got no request after its removal");
        assert.ok(next.every((s) => s.requests > 0), "the new generation served");
        assert.ok(log.some((l) => /web1 removed: drained in \d+ ms/.test(l)), "the fleet was drained, then removed");
        console.log(`      adoption under load: ${result.total} requests, ${result.failed.length} failed; fleet retired in ${retiredIn} ms`);
    });

    it("a server defined outside the servers file is refused before anything changes", async () => {
        const outside = await appServer("web9");
        for (const lb of lbs) {
            const client = new RuntimeClient(lb.unixAdmin);
            try {
                await client.addServer("app", "web9", { address: "127.0.0.1", port: outside.port });
                await client.setState("app", "web9", "ready");
            } finally {
                await client.close();
            }
        }
        const files = await Promise.all(lbs.map((lb) => readFile(lb.serversFile, "utf8")));
        await assert.rejects(adoption.create!(adoptionInputs(["web9"])), /web9 is defined outside the servers file .*Nothing was changed/s);
        for (const [i, lb] of lbs.entries()) {
            assert.deepEqual(await servers(lb), ["web9 no check"], "still serving, untouched");
            assert.equal(await readFile(lb.serversFile, "utf8"), files[i]);
            const client = new RuntimeClient(lb.unixAdmin);
            try {
                await client.setState("app", "web9", "maint");
                await client.delServer("app", "web9");
            } finally {
                await client.close();
            }
        }
    });

    it("bad inputs are named by check", async () => {
        const { failures } = await adoption.check!({}, { ...adoptionInputs([]), servers: ["ok", "bad name"] });
        assert.equal(failures?.[0].property, "servers[1]");
    });
});
