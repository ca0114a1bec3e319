/**
 * Servers that know their owner, against real HAProxy: every line the plugin writes records its stack
 * and resource; another owner's server is never taken over, drained or removed; writers in separate
 * processes never lose each other's lines (the host's lock); and the orphan sweep removes exactly this
 * stack's unclaimed servers. The providers' methods are called as the dynamic-provider host calls them.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import provider, { type MembershipOutputs } from "../../../src/haproxy/membershipProvider";
import sweepProvider from "../../../src/haproxy/orphanSweepProvider";
import { ownerIn, ownerOfLine, type ServerOwner } from "../../../src/haproxy/ownership";
import { serverStatuses, type RunningHaproxy } from "../../../lab/haproxy";
import { PROJECT_ROOT } from "../../../lab/engine";
import { membershipLab } from "../../support/membershipLab";

const PROD = (resource: string): ServerOwner => ownerIn({ organization: "organization", project: "shop", stack: "prod" }, resource);
const STAGING = (resource: string): ServerOwner => ownerIn({ organization: "organization", project: "shop", stack: "staging" }, resource);

describe("Servers that know their owner (real HAProxy)", function () {
    this.timeout(120_000);
    const { lbs, log, appServer, inputs, create } = membershipLab({
        check: { enabled: true, inter: 100, rise: 1, fall: 2 },
        drain: { pollIntervalMs: 50, timeoutMs: 10_000, quietPeriodMs: 0 },
    });


    /** The owner recorded on `server`'s line in `lb`'s servers file. */
    async function recordedOwner(lb: RunningHaproxy, server: string): Promise<ServerOwner | undefined> {
        const text = await readFile(lb.serversFile, "utf8");
        return ownerOfLine(text.split("\n").find((l) => new RegExp(`^\\s+server ${server} `).test(l)));
    }

    it("records the owner on every line; HAProxy reads the file back at a reload with the server UP", async () => {
        const app = await appServer("owned");
        await create(inputs(app, { owner: PROD("site-members-g1") }));
        for (const lb of lbs) assert.deepEqual(await recordedOwner(lb, "owned"), PROD("site-members-g1"));
        await lbs[0].reload("restart");
        assert.deepEqual(await serverStatuses(lbs[0]), ["owned UP"], "the line with its owner comment is a valid server line");
    });

    it("a create for a server another stack owns fails naming both owners; that server keeps serving, its line untouched", async () => {
        const app = await appServer("shared-name");
        await create(inputs(app, { owner: PROD("site-members-g1") }));
        const { inputs: checked } = await provider.check!({}, inputs(app, { owner: STAGING("site-members-g1") }));
        await assert.rejects(provider.create(checked), (err: Error) => {
            assert.match(err.message, /owned by stack organization\/shop\/prod, resource site-members-g1.*not by stack organization\/shop\/staging, resource site-members-g1/s);
            return true;
        });
        for (const lb of lbs) {
            assert.deepEqual(await serverStatuses(lb), ["shared-name UP"]);
            assert.deepEqual(await recordedOwner(lb, "shared-name"), PROD("site-members-g1"));
        }
    });

    it("a delete or update by another owner leaves the server serving (nothing drained, nothing removed)", async () => {
        const app = await appServer("theirs");
        const outs = await create(inputs(app, { owner: PROD("site-members-g1") }));
        const intruder: MembershipOutputs = { ...outs, owner: STAGING("site-members-g1") };
        await provider.delete!("app/theirs", intruder);
        for (const lb of lbs) assert.deepEqual(await serverStatuses(lb), ["theirs UP"]);
        assert.ok(log.some((l) => /theirs left alone: stack organization\/shop\/prod, resource site-members-g1 owns it/.test(l)), log.join("\n"));
        // A membership stored without an owner (written before owners) touches only lines without one.
        const { owner: _owner, ...legacy } = outs;
        await provider.delete!("app/theirs", legacy as MembershipOutputs);
        for (const lb of lbs) assert.deepEqual(await serverStatuses(lb), ["theirs UP"]);
    });

    it("two processes writing one servers file at once lose no line, and leave no lock behind", async () => {
        const [lb] = lbs;
        const writer = (prefix: string) =>
            new Promise<void>((resolve, reject) => {
                const script = `
                    const { updateServersFile, renderServerLine } = require("./src/haproxy/serversFile");
                    const { hostFilesFor } = require("./src/haproxy/runtime/hostFiles");
                    const { parseEndpoint } = require("./src/haproxy/runtime/endpoint");
                    const files = hostFilesFor(parseEndpoint(${JSON.stringify(lb.unixAdmin)}, "endpoint"));
                    const header = { backend: "app", backendDefaults: ${JSON.stringify(lb.backendDefaults)} };
                    (async () => {
                        for (let i = 0; i < 100; i++) {
                            const name = "${prefix}-" + i;
                            await updateServersFile(files, "key", ${JSON.stringify(lb.serversFile)}, header, (servers) =>
                                servers.set(name, renderServerLine({ name, address: "192.0.2.1", port: 1000 + i, weight: 1, check: { enabled: false }, options: {}, state: "maint" })));
                        }
                    })().catch((err) => { console.error(err); process.exit(1); });`;
                const child = spawn(process.execPath, ["-r", "ts-node/register", "-e", script], { cwd: PROJECT_ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, stdio: ["ignore", "ignore", "pipe"] });
                let stderr = "";
                child.stderr.on("data", (d) => (stderr += d));
                child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer ${prefix} exited ${code}: ${stderr}`))));
            });
        await Promise.all([writer("alpha"), writer("beta")]);
        const names = (await readFile(lb.serversFile, "utf8")).split("\n").flatMap((l) => /^\s+server (\S+) /.exec(l)?.[1] ?? []);
        for (const prefix of ["alpha", "beta"]) {
            assert.equal(names.filter((n) => n.startsWith(`${prefix}-`)).length, 100, `every line of ${prefix} is in the file`);
        }
        assert.equal(existsSync(`${lb.serversFile}.lock`), false, "the lock is released");
        await lb.reload("restart"); // the lines are valid HAProxy configuration (servers in MAINT)
        assert.equal((await serverStatuses(lb)).filter((s) => / MAINT$/.test(s)).length, 200);
        // Clean up: back to an empty backend.
        const { updateServersFile } = await import("../../../src/haproxy/serversFile");
        const { hostFilesFor } = await import("../../../src/haproxy/runtime/hostFiles");
        const { parseEndpoint } = await import("../../../src/haproxy/runtime/endpoint");
        await updateServersFile(hostFilesFor(parseEndpoint(lb.unixAdmin, "endpoint")), "cleanup", lb.serversFile, { backend: "app", backendDefaults: lb.backendDefaults }, (servers) => servers.clear());
        await lb.reload("restart");
    });

    it("the orphan sweep drains and removes this deployment's unclaimed servers, and nothing claimed, of another deployment or of another stack", async () => {
        const [claimed, orphan, other, otherDeployment] = await Promise.all([appServer("app-g2-0"), appServer("app-g3-0"), appServer("web-b1-0"), appServer("api-a1-0")]);
        await create(inputs(claimed, { owner: PROD("site-members-g2") }));
        const orphanOuts = await create(inputs(orphan, { owner: PROD("site-members-g3") }));
        await create(inputs(other, { owner: STAGING("site-members-b1") }));
        // Another deployment of the same stack, on the same backend: its own sweep's to judge.
        await create(inputs(otherDeployment, { owner: PROD("api-members-a1") }));
        const sweepInputs = {
            stack: PROD("x").stack,
            scope: "site-members-",
            claimed: ["site-members-g2"],
            loadBalancers: orphanOuts.loadBalancers,
            backend: "app",
            drain: { pollIntervalMs: 50, timeoutMs: 10_000, quietPeriodMs: 0 },
        };
        const diff = await sweepProvider.diff!("app/orphans", { ...sweepInputs, removed: [] }, sweepInputs);
        assert.equal(diff.changes, true, "a preview shows the sweep as a change");
        assert.ok(log.some((l) => /no resource claims.*app\/app-g3-0 on lb1, lb2 \(stack organization\/shop\/prod, resource site-members-g3\)/.test(l)), log.join("\n"));
        const { outs } = await sweepProvider.create(sweepInputs);
        assert.deepEqual(outs.removed, ["app-g3-0"]);
        for (const lb of lbs) {
            assert.deepEqual(await serverStatuses(lb), ["api-a1-0 UP", "app-g2-0 UP", "web-b1-0 UP"]);
            assert.equal(await recordedOwner(lb, "app-g3-0"), undefined, "the orphan's line is gone");
        }
        assert.equal((await sweepProvider.diff!("app/orphans", outs, sweepInputs)).changes, false, "nothing left to sweep");
    });
});
