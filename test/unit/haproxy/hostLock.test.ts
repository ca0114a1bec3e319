/**
 * The host lock of a servers file (hostLock.ts) on this machine's files: one holder at a time, a dead
 * holder's lock taken over once its lease ended, a foreign file reported after the wait, and the owner
 * comment of server lines (ownership.ts).
 */
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HostLockError, withHostLock } from "../../../src/haproxy/hostLock";
import { mayTouch, ownerComment, ownerIn, ownerOfLine, validateOwner } from "../../../src/haproxy/ownership";
import { hostFilesFor } from "../../../src/haproxy/runtime/hostFiles";
import { parseEndpoint } from "../../../src/haproxy/runtime/endpoint";
import { renderServerLine } from "../../../src/haproxy/serversFile";

describe("host lock of a servers file", function () {
    let dir: string;
    const files = hostFilesFor(parseEndpoint("unix:///run/haproxy/admin.sock", "endpoint"));
    const times = { leaseMs: 300, waitMs: 2_000 };
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "bluegreen-lock-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("lets one holder at a time run, and is released after each", async () => {
        const path = join(dir, "app.cfg");
        let inside = 0;
        let most = 0;
        await Promise.all(
            Array.from({ length: 8 }, () =>
                withHostLock(files, path, async () => {
                    inside++;
                    most = Math.max(most, inside);
                    await sleep(5);
                    inside--;
                }, times),
            ),
        );
        assert.equal(most, 1);
        assert.equal(existsSync(`${path}.lock`), false);
    });

    it("takes over a lock whose lease ended (its holder died), and not one still leased", async () => {
        const path = join(dir, "app.cfg");
        writeFileSync(`${path}.lock`, JSON.stringify({ holder: "dead:1:x", expiresAt: Date.now() + 200 }));
        const started = Date.now();
        await withHostLock(files, path, async () => {
            assert.notEqual(JSON.parse(readFileSync(`${path}.lock`, "utf8")).holder, "dead:1:x");
        }, times);
        assert.ok(Date.now() - started >= 150, "waited for the lease to end");
    });

    it("reports a lock file it cannot read as a lock, after the wait, naming the file", async () => {
        const path = join(dir, "app.cfg");
        writeFileSync(`${path}.lock`, "operator was here");
        await assert.rejects(withHostLock(files, path, async () => undefined, { leaseMs: 300, waitMs: 200 }), (err: Error) => {
            assert.ok(err instanceof HostLockError);
            assert.match(err.message, /app\.cfg\.lock is held by something that is not a lock of this plugin: "operator was here".*remove the lock file/);
            return true;
        });
    });
});

describe("owner of a server line", function () {
    const prod = ownerIn({ organization: "organization", project: "shop", stack: "prod" }, "site members/g2");

    it("is written as the line's closing comment and read back, names URI-encoded", () => {
        const line = renderServerLine({ name: "app-g2-0", address: "10.0.0.5", port: 8080, weight: 1, check: { enabled: true }, options: {}, state: "ready", owner: prod });
        assert.ok(line.endsWith(` ${ownerComment(prod)}`), line);
        assert.ok(line.endsWith("# owner organization/shop/prod site%20members%2Fg2"), line);
        assert.deepEqual(ownerOfLine(line), prod);
        assert.equal(ownerOfLine("    server web1 10.0.0.9:80 check"), undefined);
    });

    it("lets a membership touch its own lines and lines without an owner, never another's", () => {
        const line = `    server a 10.0.0.1:80 ${ownerComment(prod)}`;
        const staging = { ...prod, stack: "organization/shop/staging" };
        assert.equal(mayTouch(line, prod), true);
        assert.equal(mayTouch(line, staging), false);
        assert.equal(mayTouch(line, undefined), false, "a membership stored without an owner");
        assert.equal(mayTouch("    server a 10.0.0.1:80", staging), true);
        assert.equal(mayTouch(undefined, undefined), true);
    });

    it("refuses an owner with spaces or a comment sign, naming the field", () => {
        assert.throws(() => validateOwner("owner", { stack: "a b", resource: "r" }), /owner\.stack/);
        assert.throws(() => validateOwner("owner", { stack: "a", resource: "r#x" }), /owner\.resource/);
    });
});
