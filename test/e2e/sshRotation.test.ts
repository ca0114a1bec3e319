/**
 * End to end, through the real engine under load: an SSH key rotated between two flips. The load
 * balancers are reached over `ssh://` (a real sshd, streamlocal forwarding to each admin socket, the
 * servers files over SFTP). Between the flips the host accepts only a new key and the stack config gets
 * it: the next flip's new generation attaches with it, and the old generation's delete, which the
 * program no longer registers, drains and detaches with it too (today's credentials, not the ones stored
 * at its attach).
 */
import * as assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dump } from "js-yaml";
import { RuntimeClient } from "../../src/haproxy/runtime/client";
import { Traffic } from "../../scripts/lib/traffic";
import { serverStatuses, startHaproxy, type RunningHaproxy } from "../../lab/haproxy";
import { sharedLbConfig, useSharedLbProgram } from "../../lab/sharedLbProgram";
import { scratchProject, type ScratchProject } from "../../lab/scratchProject";
import { startSshd, type TestSshd } from "../support/sshd";


describe("end to end: an SSH key rotated between two flips (ssh:// endpoints, real sshd)", function () {
    this.timeout(600_000);
    let sshd: TestSshd;
    let lbs: RunningHaproxy[] = [];
    let p: ScratchProject;

    const useKey = (key: "privateKey" | "encryptedPrivateKey") =>
        p.stack.setConfig("haproxy-bluegreen:ssh", {
            secret: true,
            value: JSON.stringify({ privateKey: sshd[key], ...(key === "encryptedPrivateKey" ? { passphrase: sshd.passphrase } : {}), hostKeySha256: sshd.hostKeySha256 }),
        });

    async function flip(to: string): Promise<void> {
        const traffic = new Traffic({ urls: lbs.map((lb) => lb.frontendUrl), ratePerSecond: 120, clients: 6, longRequestMs: 3000, longEveryMs: 1000 });
        await p.stack.setConfig("haproxy-bluegreen:generation", { value: to });
        const result = await p.stack.up().catch((err: Error) => err);
        const load = await traffic.stop();
        assert.ok(!(result instanceof Error), `flip to ${to}: ${(result as Error).message}`);
        assert.ok(load.total > 300, `enough traffic to mean something: ${load.total}`);
        assert.deepEqual(load.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], `flip to ${to}: no request failed`);
        for (const lb of lbs) assert.deepEqual(await serverStatuses(lb), [`app-${to}-0 UP`, `app-${to}-1 UP`]);
    }

    before(async () => {
        [sshd, ...lbs] = await Promise.all([startSshd(), startHaproxy(), startHaproxy()]);
        p = await scratchProject("rotation");
        useSharedLbProgram(p.dir);
        writeFileSync(join(p.dir, "Pulumi.rotation.yaml"), dump({ config: sharedLbConfig("g1", lbs, (lb) => sshd.url(lb.adminSocket)) }));
        await useKey("privateKey");
        await p.stack.up();
    });
    after(async () => {
        await p?.stack.destroy().catch(() => undefined);
        await p?.dispose();
        await Promise.all([...lbs.map((lb) => lb.stop()), sshd?.stop()]);
    });

    it("flips with the first key, then, with the host accepting only a new key and the config giving it, flips again: 0 failed", async () => {
        await flip("g2");
        await sshd.authorizeOnly("encryptedPrivateKey");
        const old = new RuntimeClient(sshd.url(lbs[0].adminSocket), { ssh: { privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 } });
        await assert.rejects(old.showStat("app"), "the first key no longer logs in");
        await old.close();
        await useKey("encryptedPrivateKey");
        await flip("g3");
    });
});
