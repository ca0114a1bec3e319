/**
 * End to end, through the real engine under load: servers that know their owner.
 * - Two stacks of one project (staging and prod, as two teams would have) deploy their own generations
 *   onto the same two production-shaped HAProxy load balancers and the same backend, and flip five
 *   times each, at the same time: neither touches the other's servers, a reload afterwards finds every
 *   line of both, and no request fails.
 * - A `pulumi up` SIGKILLed right after the new generation's servers were added, then `pulumi cancel`
 *   and a rollback: `preview` lists the orphaned servers, and the rollback's `up` drains and removes them
 *   with no request failing; `pulumi refresh --clear-pending-creates` then ends the engine's warning about
 *   the interrupted create.
 */
import * as assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { dump } from "js-yaml";
import { flipUnderTraffic, membershipOf, deployedState } from "../../scripts/lib/flip";
import { Traffic, type TrafficResult } from "../../scripts/lib/traffic";
import { ownerOfLine } from "../../src/haproxy/ownership";
import { serverStatuses, startHaproxy, type RunningHaproxy } from "../../lab/haproxy";
import { sharedLbConfig, useSharedLbProgram } from "../../lab/sharedLbProgram";
import { interruptedUp } from "../../lab/interruptedUp";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";


/** `server owner-stack` of every line of `lb`'s servers file, sorted. */
function ownedLines(lb: RunningHaproxy): string[] {
    return readFileSync(lb.serversFile, "utf8")
        .split("\n")
        .flatMap((line) => {
            const name = /^\s+server (\S+) /.exec(line)?.[1];
            return name ? [`${name} ${decodeURIComponent(ownerOfLine(line)?.stack ?? "(no owner)")}`] : [];
        })
        .sort();
}

function assertNoFailures(result: TrafficResult, minimum: number): void {
    assert.ok(result.total >= minimum, `enough traffic to mean something: ${result.total}`);
    assert.deepEqual(result.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
}

describe("end to end: servers that know their owner", function () {
    this.timeout(900_000);

    describe("two stacks flipping at once on the same load balancers and backend", function () {
        let p: ScratchProject;
        let lbs: RunningHaproxy[] = [];
        const stacks: Record<string, Stack> = {};

        before(async () => {
            lbs = await Promise.all([startHaproxy(), startHaproxy()]);
            p = await scratchProject("staging");
            useSharedLbProgram(p.dir);
            for (const [name, first] of [["staging", "s1"], ["prod", "p1"]]) {
                writeFileSync(join(p.dir, `Pulumi.${name}.yaml`), dump({ config: sharedLbConfig(first, lbs) }));
                stacks[name] = name === "staging" ? p.stack : await LocalWorkspace.createStack({ stackName: name, workDir: p.dir }, { envVars: p.env });
            }
            for (const stack of Object.values(stacks)) await stack.up();
        });

        after(async () => {
            for (const stack of Object.values(stacks)) await stack.destroy().catch(() => undefined);
            await p?.dispose();
            await Promise.all(lbs.map((lb) => lb.stop()));
        });

        it("five flips each, concurrently, under load: neither touches the other's servers; a reload keeps every line of both; 0 failed", async () => {
            for (const lb of lbs) assert.deepEqual(await serverStatuses(lb), ["app-p1-0 UP", "app-p1-1 UP", "app-s1-0 UP", "app-s1-1 UP"]);
            const traffic = new Traffic({ urls: lbs.map((lb) => lb.frontendUrl), ratePerSecond: 120, clients: 8, longRequestMs: 3000, longEveryMs: 700 });
            const spans: Record<string, { from: number; to: number }[]> = { staging: [], prod: [] };
            const flips = (name: string, prefix: string) => async () => {
                for (let g = 2; g <= 6; g++) {
                    await stacks[name].setConfig("haproxy-bluegreen:generation", { value: `${prefix}${g}` });
                    const from = Date.now();
                    const result = await stacks[name].up();
                    assert.equal(result.summary.result, "succeeded", `${name} flip to ${prefix}${g}`);
                    assert.doesNotMatch(result.stdout, /left alone/, `${name} met no server of the other stack`);
                    spans[name].push({ from, to: Date.now() });
                }
            };
            const outcome = await Promise.allSettled([flips("staging", "s")(), flips("prod", "p")()]);
            const load = await traffic.stop();
            for (const o of outcome) if (o.status === "rejected") throw o.reason;
            assertNoFailures(load, 1000);
            const overlapping = spans.staging.filter((a) => spans.prod.some((b) => a.from < b.to && b.from < a.to)).length;
            assert.ok(overlapping >= 3, `the two stacks' flips ran at the same time (${overlapping} of 5 overlapped)`);
            const seconds = (s: { from: number; to: number }[]) => s.map((x) => ((x.to - x.from) / 1000).toFixed(1)).join(" ");
            console.log(`      two stacks: ${load.total} requests, ${load.failed.length} failed; flips (s): staging ${seconds(spans.staging)}, prod ${seconds(spans.prod)}; ${overlapping} of 5 overlapped`);

            const expected = ["app-p6-0 UP", "app-p6-1 UP", "app-s6-0 UP", "app-s6-1 UP"];
            for (const lb of lbs) {
                assert.deepEqual(ownedLines(lb), ["app-p6-0 organization/haproxy-bluegreen/prod", "app-p6-1 organization/haproxy-bluegreen/prod", "app-s6-0 organization/haproxy-bluegreen/staging", "app-s6-1 organization/haproxy-bluegreen/staging"]);
                await lb.reload("master");
                assert.deepEqual(await serverStatuses(lb), expected, "after a reload, every line of both stacks is there");
            }
        });
    });

    describe("an up killed right after the new servers were added, then cancel and a rollback", function () {
        let p: ScratchProject;

        before(async () => {
            p = await scratchProject("orphans");
            await p.stack.up();
        });
        after(async () => {
            await p.stack.destroy().catch(() => undefined);
            await p?.dispose();
        });

        it("preview lists the orphaned servers; the rollback's up drains and removes them; 0 failed requests", async () => {
            const run = await flipUnderTraffic(p.stack, "g5", {
                traffic: { longRequestMs: 3000 },
                up: async (stack) => {
                    const { seen, output } = await interruptedUp(p, stack, /app\/app-g5-\d attached and UP/, (group) => process.kill(-group, "SIGKILL"));
                    assert.ok(seen, `the new servers were added before the kill:\n${output.slice(-2000)}`);
                    // The rollback: back to the generation that served.
                    await stack.setConfig("generation", { value: "g1" });
                    const preview = await stack.preview();
                    assert.match(preview.stdout, /servers of this stack that no resource claims, to be drained and removed: .*app\/app-g5-\d on lb\d/, preview.stdout.slice(-3000));
                    return stack.up();
                },
            });
            assert.equal(run.error, undefined, run.error?.message);
            assertNoFailures(run.traffic, 100);
            // The engine keeps the interrupted create as a pending operation, and warns about it at every
            // `up`, until a refresh clears it: safe here, the servers it would have owned are gone.
            const pending = async () => ((await p.stack.exportStack()).deployment.pending_operations ?? []).map((o: { type: string; resource: { urn: string } }) => `${o.type} ${o.resource.urn.split("::").pop()}`);
            assert.deepEqual(await pending(), ["creating site-members-g5"]);
            await p.stack.refresh({ clearPendingCreates: true });
            assert.deepEqual(await pending(), []);
            assert.doesNotMatch((await p.stack.up()).stdout, /pending operations/);
            const state = await deployedState(p.stack);
            for (const lb of await membershipOf(state.loadBalancers, state.backend)) {
                assert.deepEqual(lb.servers.map((s) => `${s.name} ${s.status}`).sort(), ["app-g1-0 UP", "app-g1-1 UP"], `${lb.lb}: the orphans are gone`);
            }
        });
    });
});
