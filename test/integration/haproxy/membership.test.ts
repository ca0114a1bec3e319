/**
 * The Membership provider against two real HAProxy processes and real HTTP servers on loopback.
 * The provider's methods are called as the dynamic-provider host calls them (inputs in, outputs out).
 */
import * as assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import provider, { interimName, type MembershipOutputs } from "../../../src/haproxy/membershipProvider";
import { RuntimeClient } from "../../../src/haproxy/runtime/client";
import type { RunningHaproxy } from "../../../lab/haproxy";
import { fetchText } from "../../../lab/httpServer";
import { membershipLab } from "../../support/membershipLab";
import { startFakeRuntimeApi } from "../../support/fakeRuntimeApi";
import { startSshd, type TestSshd } from "../../support/sshd";
import { freePort } from "../../../lab/ports";

describe("Membership provider against real HAProxy", function () {
    this.timeout(120_000);
    const { lbs, log, appServer, lbRefs, inputs, create } = membershipLab({
        check: { enabled: true, inter: 100, rise: 1, fall: 1 },
        drain: { pollIntervalMs: 50, timeoutMs: 20_000 },
    });

    async function statusOn(lb: RunningHaproxy, server: string): Promise<string | undefined> {
        const client = new RuntimeClient(lb.unixAdmin);
        try {
            return (await client.getServer("app", server))?.status;
        } finally {
            await client.close();
        }
    }

    it("attaches on every load balancer and traffic reaches the server through each", async () => {
        const s = await appServer("attach-a");
        const outs = await create(inputs(s));
        assert.deepEqual(outs.attachedTo, ["lb1", "lb2"]);
        for (const lb of lbs) {
            assert.equal(await statusOn(lb, "attach-a"), "UP");
            const r = await fetchText(`${lb.frontendUrl}/`);
            assert.equal(r.status, 200);
            assert.equal(r.body, "attach-a");
        }
        await provider.delete!("app/attach-a", outs);
        for (const lb of lbs) assert.equal(await statusOn(lb, "attach-a"), undefined);
    });

    it("drains: a request in flight completes on the drained server, new ones go elsewhere, then it is removed", async () => {
        const old = await appServer("drain-old");
        const oldOuts = await create(inputs(old));
        const slow = fetchText(`${lbs[0].frontendUrl}/slow?ms=2500`);
        await new Promise((r) => setTimeout(r, 300)); // the slow request is on drain-old, the only server
        const fresh = await appServer("drain-new");
        const newOuts = await create(inputs(fresh));

        const deleting = provider.delete!("app/drain-old", oldOuts).then(() => Date.now());
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(await statusOn(lbs[0], "drain-old"), "DRAIN");
        const during = await Promise.all(Array.from({ length: 20 }, (_, i) => fetchText(`${lbs[i % 2].frontendUrl}/`)));
        assert.ok(during.every((r) => r.status === 200 && r.body === "drain-new"), JSON.stringify(during.map((r) => r.body)));

        const slowResult = await slow;
        assert.equal(slowResult.status, 200);
        assert.equal(slowResult.body, "drain-old", "the in-flight request completed on the drained server");
        const removedAt = await deleting;
        assert.ok(removedAt >= slowResult.endedAt, "removed only after the last session ended");
        console.log(`      drain detection: removed from both load balancers ${removedAt - slowResult.endedAt} ms after the last session ended`);
        for (const lb of lbs) assert.equal(await statusOn(lb, "drain-old"), undefined);
        await provider.delete!("app/drain-new", newOuts);
    });

    it("drain timeout with onTimeout fail: the update fails, the server stays out of rotation, a re-run resumes", async () => {
        const s = await appServer("timeout-fail");
        const outs = await create(inputs(s, { drain: { pollIntervalMs: 50, timeoutMs: 400, onTimeout: "fail" } }));
        const slow = fetchText(`${lbs[0].frontendUrl}/slow?ms=2000`);
        await new Promise((r) => setTimeout(r, 200));
        await assert.rejects(provider.delete!("app/timeout-fail", outs), /lb1: app\/timeout-fail: still 1 sessions, status DRAIN after 400 ms.*run `pulumi up` again/s);
        assert.equal(await statusOn(lbs[0], "timeout-fail"), "DRAIN");
        assert.equal((await slow).body, "timeout-fail");
        await provider.delete!("app/timeout-fail", outs); // the re-run
        for (const lb of lbs) assert.equal(await statusOn(lb, "timeout-fail"), undefined);
    });

    it("drain timeout with onTimeout force: remaining sessions are shut and the server removed", async () => {
        const s = await appServer("timeout-force");
        const outs = await create(inputs(s, { drain: { pollIntervalMs: 50, timeoutMs: 400, onTimeout: "force" } }));
        const slow = fetchText(`${lbs[1].frontendUrl}/slow?ms=10000`).then(
            (r) => r.status,
            () => "aborted",
        );
        await new Promise((r) => setTimeout(r, 200));
        const started = Date.now();
        await provider.delete!("app/timeout-force", outs);
        assert.ok(Date.now() - started < 9000, "did not wait for the 10 s request");
        assert.notEqual(await slow, 200, "the forced session did not complete normally");
        for (const lb of lbs) assert.equal(await statusOn(lb, "timeout-force"), undefined);
    });

    it("rejects injection attempts in check, before anything is sent", async () => {
        const fake = await startFakeRuntimeApi();
        try {
            const base = { loadBalancers: [{ name: "lb1", endpoint: fake.url }], backend: "app", server: "ok", address: "127.0.0.1", port: 80, runtimeOnly: true };
            const attempts: [string, Record<string, unknown>][] = [
                ["server", { server: "x; show stat" }],
                ["server", { server: "x\nshutdown sessions server app/y" }],
                ["backend", { backend: "app #" }],
                ["address", { address: "127.0.0.1 check;" }],
                ["port", { port: "80; del server app/y" }],
                ["weight", { weight: 1.5 }],
                ["loadBalancers[0].endpoint", { loadBalancers: [{ name: "lb1", endpoint: "tcp://h:1;x" }] }],
                ["loadBalancers[0].name", { loadBalancers: [{ name: "lb 1", endpoint: fake.url }] }],
            ];
            for (const [field, patch] of attempts) {
                const { failures } = await provider.check!({}, { ...base, ...patch });
                assert.ok(failures?.[0]?.property.startsWith(field), `${field}: ${JSON.stringify(failures)}`);
                await assert.rejects(provider.create({ ...base, ...patch }), (err: Error) => err.message.includes(field));
            }
            assert.equal(fake.received, "", "nothing reached the socket");
            assert.equal(fake.connections, 0);
        } finally {
            await fake.stop();
        }
    });

    it("an unreachable load balancer fails the attach clearly, leaves nothing behind, and a re-run converges", async () => {
        const s = await appServer("unreachable");
        const deadPort = await freePort();
        const broken = {
            ...inputs(s, { attachTimeoutMs: 1500, runtimeOnly: true }),
            loadBalancers: [{ name: "lb1", endpoint: lbs[0].unixAdmin }, { name: "lb2", endpoint: `tcp://127.0.0.1:${deadPort}` }],
        };
        await assert.rejects(provider.create(broken), (err: Error) => {
            assert.match(err.message, /lb2: .*not UP within 1500 ms \(not present\); last error: .*127\.0\.0\.1:\d+.*(refused|ECONNREFUSED)/i);
            return true;
        });
        assert.equal(await statusOn(lbs[0], "unreachable"), undefined, "taken back out of the reachable load balancer");
        const outs = await create(inputs(s));
        assert.deepEqual(outs.attachedTo, ["lb1", "lb2"]);
        await provider.delete!("app/unreachable", outs);
    });

    it("an unhealthy server never takes traffic: the attach fails with its last check and leaves nothing behind", async () => {
        const s = await appServer("unhealthy");
        s.setHealthy(false);
        await assert.rejects(provider.create(inputs(s, { attachTimeoutMs: 1500 })), /unhealthy: not UP within 1500 ms \(status MAINT, last check L7STS/);
        for (const lb of lbs) assert.equal(await statusOn(lb, "unhealthy"), undefined);
        assert.equal(s.requests, 0, "no request reached the unhealthy server");
    });

    it("adopts a half-done attach and refuses a conflicting server", async () => {
        const s = await appServer("adopt");
        const client = new RuntimeClient(lbs[0].unixAdmin);
        await client.addServer("app", "adopt", { address: s.host, port: s.port, check: { enabled: true, inter: 100, rise: 1, fall: 1 } });
        await client.addServer("app", "conflict", { address: s.host, port: 1 });
        await client.close();
        const outs = await create(inputs(s));
        assert.equal(await statusOn(lbs[0], "adopt"), "UP");
        assert.ok(log.some((m) => m.includes("lb1: app/adopt adopted")));
        await assert.rejects(provider.create({ ...inputs(s), server: "conflict" }), /already exists with address 127\.0\.0\.1:1/);
        await provider.delete!("app/adopt", outs);
        await provider.delete!("app/conflict", { ...inputs(s), server: "conflict", port: 1, attachedTo: ["lb1"] });
    });

    it("a runtime-only membership lost by a restart is noticed by a plain diff (no refresh) and re-attached", async () => {
        const s = await appServer("drift");
        const runtimeOnly = inputs(s, { runtimeOnly: true, loadBalancers: lbs.map((lb, i) => ({ name: `lb${i + 1}`, endpoint: lb.unixAdmin })) });
        const outs = await create(runtimeOnly);
        await lbs[1].reload("restart");
        assert.equal(await statusOn(lbs[1], "drift"), undefined, "a restart loses servers that are in no file");
        const diff = await provider.diff!("app/drift", outs, runtimeOnly);
        assert.equal(diff.changes, true);
        assert.deepEqual(diff.replaces, []);
        const updated = await provider.update!("app/drift", outs, runtimeOnly);
        assert.deepEqual((updated.outs as MembershipOutputs).attachedTo, ["lb1", "lb2"]);
        assert.equal(await statusOn(lbs[1], "drift"), "UP");
        assert.equal((await provider.diff!("app/drift", updated.outs, runtimeOnly)).changes, false, "nothing left to repair");
        await provider.delete!("app/drift", updated.outs);
    });

    it("refuses a tcp:// endpoint unless the membership is runtime-only, saying why", async () => {
        const s = await appServer("tcp-durable");
        const i = inputs(s, { loadBalancers: [{ name: "lb1", endpoint: lbs[0].tcpAdmin }] });
        const { failures } = await provider.check!({}, i);
        assert.equal(failures?.[0]?.property, "loadBalancers[0].endpoint");
        assert.match(failures?.[0]?.reason ?? "", /cannot write the servers file.*lost at the next reload.*runtimeOnly/s);
        const { failures: none } = await provider.check!({}, { ...i, runtimeOnly: true });
        assert.deepEqual(none ?? [], []);
    });

    it("changes weight in place, and moves to another address in place: the replacement serves (interim name) before the old server leaves, no request fails", async () => {
        const s = await appServer("moving");
        const outs = await create(inputs(s));
        const heavier = inputs(s, { weight: 7 });
        const diff = await provider.diff!("app/moving", outs, heavier);
        assert.equal(diff.changes, true);
        assert.deepEqual(diff.replaces, []);
        const updated = await provider.update!("app/moving", outs, heavier);
        const client = new RuntimeClient(lbs[0].unixAdmin);
        assert.equal((await client.getServer("app", "moving"))?.weight, 7);
        await client.close();

        const target = await appServer("moving-target");
        const movedInputs = inputs(s, { weight: 7, address: target.host, port: target.port });
        const moved = await provider.diff!("app/moving", updated.outs, movedInputs);
        assert.equal(moved.changes, true);
        assert.deepEqual(moved.replaces, [], "a new address moves the server in place; a replace would take it out first");
        // A steady request loop through both load balancers while the only server of the backend moves.
        let moving = true;
        const answers: { status: number; body: string }[] = [];
        const loop = (async () => {
            for (let i = 0; moving; i++) answers.push(await fetchText(`${lbs[i % 2].frontendUrl}/`).catch((err: Error) => ({ status: 0, body: err.message })));
        })();
        const seen = new Set<string>();
        const watch = (async () => {
            while (moving) {
                const c = new RuntimeClient(lbs[0].unixAdmin);
                const rows = await c.showStat("app").finally(() => c.close());
                for (const r of rows) if (r.svname.startsWith("moving")) seen.add(`${r.svname} ${r.status}`);
                await new Promise((r) => setTimeout(r, 30));
            }
        })();
        const after = await provider.update!("app/moving", updated.outs, movedInputs);
        moving = false;
        await Promise.all([loop, watch]);
        assert.ok(answers.length > 20, `enough requests: ${answers.length}`);
        assert.deepEqual(answers.filter((a) => a.status !== 200), [], "no request failed while the server moved");
        assert.ok([...seen].includes(`${interimName("moving")} UP`), `the replacement served under its interim name: ${[...seen].join(", ")}`);
        const bodies = new Set(answers.map((a) => a.body));
        assert.ok(bodies.has("moving") && bodies.has("moving-target"), `served first from the old address, then from the new: ${[...bodies].join(", ")}`);
        for (const lb of lbs) {
            const c = new RuntimeClient(lb.unixAdmin);
            const rows = (await c.showStat("app").finally(() => c.close())).filter((r) => r.svname.startsWith("moving"));
            assert.deepEqual(rows.map((r) => `${r.svname} ${r.status} ${r.addr}`), [`moving UP ${target.host}:${target.port}`], lb.unixAdmin);
            assert.doesNotMatch(await readFile(lb.serversFile, "utf8"), /moving\.next/, `${lb.unixAdmin}: the interim server left the servers file`);
        }
        await provider.delete!("app/moving", after.outs);
    });

    it("keeps the check and options a server was attached with: a change is no change for it (the next generation gets it)", async () => {
        const s = await appServer("pinned");
        const outs = await create(inputs(s));
        const changed = inputs(s, { options: { maxconn: 10 }, check: { enabled: true, inter: 300, rise: 1, fall: 1 } });
        const diff = await provider.diff!("app/pinned", outs, changed);
        assert.equal(diff.changes, false);
        assert.deepEqual(diff.replaces, []);
        assert.ok(log.some((l) => /app\/pinned keeps the check and options it was attached with/.test(l)));
        // An update for another reason (weight) keeps them too.
        const updated = await provider.update!("app/pinned", outs, { ...changed, weight: 3 });
        assert.deepEqual([updated.outs.options, updated.outs.check, updated.outs.weight], [outs.options, outs.check, 3]);
        const client = new RuntimeClient(lbs[0].unixAdmin);
        assert.equal((await client.getServer("app", "pinned"))?.slim, undefined, "no maxconn was applied to the running server");
        await client.close();
        await provider.delete!("app/pinned", updated.outs);
    });

    it("handles many memberships on one load balancer at once", async () => {
        const s = await appServer("many");
        const count = 40;
        const all = Array.from({ length: count }, (_, i) => ({ ...inputs(s), server: `many-${i}` }));
        const outs = await Promise.all(all.map((i) => create(i)));
        const client = new RuntimeClient(lbs[0].unixAdmin);
        const rows = (await client.showStat("app")).filter((r) => r.svname.startsWith("many-"));
        assert.equal(rows.length, count);
        assert.ok(rows.every((r) => r.status === "UP"));
        await Promise.all(outs.map((o) => provider.delete!(`app/${o.server}`, o)));
        assert.equal((await client.showStat("app")).filter((r) => r.svname.startsWith("many-")).length, 0);
        await client.close();
    });

    it("drains through the health check when drain.method is healthcheck (runbook step 12)", async () => {
        const s = await appServer("hc");
        const dir = await mkdtemp(join(tmpdir(), "hc-"));
        const file = join(dir, "healthy");
        await writeFile(file, "ok");
        try {
            const outs = await create(inputs(s, { drain: { method: "healthcheck", healthFile: pathToFileURL(file).href, pollIntervalMs: 50, timeoutMs: 20_000 } }));
            // The test server's health does not read the file: emulate the app by failing its check once the file is gone.
            const watcher = setInterval(() => !existsSync(file) && s.setHealthy(false), 20);
            try {
                await provider.delete!("app/hc", outs);
            } finally {
                clearInterval(watcher);
            }
            assert.equal(existsSync(file), false);
            assert.ok(log.some((m) => m.includes("lb1: app/hc removed")));
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });

    describe("over SSH (real sshd, streamlocal forwarding)", () => {
        let sshd: TestSshd;
        before(async () => (sshd = await startSshd()));
        after(async () => sshd?.stop());

        it("attaches and drains through ssh:// endpoints with a passphrase-protected key", async () => {
            const s = await appServer("over-ssh");
            const ssh = { privateKey: sshd.encryptedPrivateKey, passphrase: sshd.passphrase, hostKeySha256: sshd.hostKeySha256 };
            const i = { ...inputs(s), loadBalancers: lbRefs((lb) => sshd.url(lb.adminSocket)), ssh };
            const outs = await create(i);
            for (const lb of lbs) assert.equal(await statusOn(lb, "over-ssh"), "UP");
            for (const lb of lbs) assert.match(await readFile(lb.serversFile, "utf8"), /^ {4}server over-ssh 127\.0\.0\.1:\d+ weight 1 check/m, "written over SFTP");
            await provider.delete!("app/over-ssh", outs);
            for (const lb of lbs) assert.equal(await statusOn(lb, "over-ssh"), undefined);
        });

        it("never puts the key or passphrase into an error", async () => {
            const s = await appServer("ssh-secret");
            const ssh = { privateKey: sshd.encryptedPrivateKey, passphrase: "wrong-passphrase-value" };
            const i = { ...inputs(s), loadBalancers: lbRefs((lb) => sshd.url(lb.adminSocket)).slice(0, 1), ssh };
            await assert.rejects(provider.create(i), (err: Error) => {
                assert.ok(!err.message.includes("wrong-passphrase-value"));
                assert.ok(!err.message.includes("PRIVATE KEY"));
                assert.match(err.message, /lb1/);
                return true;
            });
        });
    });
});
