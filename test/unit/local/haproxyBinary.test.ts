/**
 * Which HAProxy runs (src/targets/local/haproxyBinary.ts): the selection by BLUEGREEN_HAPROXY_VERSION, the
 * cached versions' commands, the errors that say how to fix a selection, and `haproxy -v` parsing.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheDir, haproxyCommand, parseHaproxyVersion, selectedHaproxyVersion } from "../../../src/targets/local/haproxyBinary";

describe("HAProxy version selection", () => {
    let cache: string;

    beforeEach(() => {
        cache = mkdtempSync(join(tmpdir(), "bg-hxbin-"));
    });

    afterEach(() => {
        rmSync(cache, { recursive: true, force: true });
    });

    /** A cached version as setup leaves it: the command, and the `ready` stamp when `ready`. */
    function cached(version: string, ready: boolean): string {
        const dir = join(cache, "haproxy", version);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "haproxy"), "#!/bin/sh\n", { mode: 0o755 });
        if (ready) writeFileSync(join(dir, "ready"), `HAProxy version ${version}.1\n`);
        return join(dir, "haproxy");
    }

    it("defaults to 2.6, the haproxy on PATH, when the variable is unset or empty", () => {
        for (const env of [{}, { BLUEGREEN_HAPROXY_VERSION: "" }]) {
            assert.equal(selectedHaproxyVersion(env), "2.6");
            assert.equal(haproxyCommand({ ...env, BLUEGREEN_CACHE: cache }), "haproxy");
        }
        assert.equal(haproxyCommand({ BLUEGREEN_HAPROXY_VERSION: "2.6", BLUEGREEN_CACHE: cache }), "haproxy");
    });

    it("runs 3.0 and 3.2 from the cache once their setup is complete", () => {
        for (const version of ["3.0", "3.2"]) {
            const command = cached(version, true);
            assert.equal(haproxyCommand({ BLUEGREEN_HAPROXY_VERSION: version, BLUEGREEN_CACHE: cache }), command);
        }
    });

    it("refuses a version it does not provide, naming the variable and the allowed values", () => {
        for (const value of ["2.8", "3", "latest", " 3.2"]) {
            assert.throws(() => selectedHaproxyVersion({ BLUEGREEN_HAPROXY_VERSION: value }), {
                message: `BLUEGREEN_HAPROXY_VERSION=${JSON.stringify(value)} is not one of 2.6, 3.0, 3.2 (default 2.6)`,
            });
        }
    });

    it("says how to set up a version whose setup is missing or did not finish", () => {
        cached("3.0", false);
        for (const version of ["3.0", "3.2"]) {
            assert.throws(
                () => haproxyCommand({ BLUEGREEN_HAPROXY_VERSION: version, BLUEGREEN_CACHE: cache }),
                { message: `HAProxy ${version} (BLUEGREEN_HAPROXY_VERSION=${version}) is not set up in ${join(cache, "haproxy", version)}: run \`bash scripts/setup-haproxy.sh ${version}\`` },
            );
        }
    });

    it("finds the cache where scripts/env.sh puts it", () => {
        assert.equal(cacheDir({ BLUEGREEN_CACHE: "/c" }), "/c");
        assert.equal(cacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" }), "/x/haproxy-bluegreen");
        assert.equal(cacheDir({ HOME: "/h" }), "/h/.cache/haproxy-bluegreen");
    });

    it("reads the version from haproxy -v", () => {
        assert.equal(parseHaproxyVersion("HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term supported branch\n"), "2.6.12-1+deb12u4");
        assert.equal(parseHaproxyVersion("HAProxy version 3.2.26-1 2026/10/14 - https://haproxy.org/\n"), "3.2.26-1");
        assert.throws(() => parseHaproxyVersion("haproxy: command not found"), /no "HAProxy version" line/);
    });
});
