/**
 * The local HAProxy configuration: what it renders, in production shape (checked by the real
 * `haproxy -c` together with the initial servers file), and every value that could change the file's
 * shape refused with the field named.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    EMPTY_SERVER_STATE,
    backendDefaultsName,
    renderHaproxyConfig,
    serversFilePath,
    type LocalHaproxySpec,
} from "../../../src/targets/local/haproxyConfig";
import { renderServersFile } from "../../../src/haproxy/serversFile";
import { RuntimeInputError } from "../../../src/haproxy/runtime/validate";
import { haproxyCommand } from "../../../src/targets/local/haproxyBinary";
import { requireHaproxy } from "../../../lab/haproxy";

const SPEC: LocalHaproxySpec = {
    name: "lb1",
    dir: "/var/lib/bluegreen/lb/lb1",
    frontendPort: 18080,
    backend: "app",
    healthCheck: { path: "/health", expectedStatus: 200, intervalMs: 500, rise: 2, fall: 3 },
};

/** A dynamic cookie key as the local load balancers get one (32 hex digits). */
const KEY = "0123456789abcdef0123456789abcdef";

/** Values that would break out of a config line, comment it or expand a variable. */
const HOSTILE = ["a b", "a\nb", "a#b", "a\\b", "a'b", 'a"b', "a$b", "a\rb", "a\tb", "a\0b", "a`b"];

function rejects(override: Partial<LocalHaproxySpec>, field: string) {
    assert.throws(
        () => renderHaproxyConfig({ ...SPEC, ...override }),
        (err: unknown) => {
            assert.ok(err instanceof RuntimeInputError, `expected RuntimeInputError for ${JSON.stringify(override)}, got ${err}`);
            assert.equal(err.field, field);
            assert.match(err.message, new RegExp(`^${field.replace(".", "\\.")}: .* is not allowed; expected `));
            return true;
        },
    );
}

describe("local haproxy config", () => {
    it("renders the admin socket, the state file, the backend's named defaults and the frontend, without a backend section", async () => {
        const lines = renderHaproxyConfig(SPEC).split("\n").map((l) => l.trim());
        for (const expected of [
            "stats socket /var/lib/bluegreen/lb/lb1/admin.sock mode 600 level admin expose-fd listeners",
            "server-state-file /var/lib/bluegreen/lb/lb1/server-state",
            "load-server-state-from-file global",
            "defaults backend-app",
            "mode http",
            "timeout server 65s",
            "timeout http-keep-alive 10s",
            "retries 2",
            "option redispatch",
            "balance roundrobin",
            "option httpchk GET /health",
            "http-check expect status 200",
            "default-server inter 500ms rise 2 fall 3",
            "option idle-close-on-response",
            "frontend fe_lb1",
            "bind 127.0.0.1:18080",
            "default_backend app",
        ]) {
            assert.ok(lines.includes(expected), `missing line: ${expected}`);
        }
        assert.ok(!lines.some((l) => l.startsWith("backend ")), "the backend section is in the servers file");
        assert.ok(!lines.some((l) => l.startsWith("server ")), "no static servers");
    });

    it("keeps server-side connections alive: no http-server-close, no other close option, no http-reuse override", async () => {
        const config = renderHaproxyConfig(SPEC);
        assert.doesNotMatch(config, /http-server-close|httpclose|forceclose|http-reuse|http-pretend-keepalive/);
    });

    it("puts the named defaults before the unnamed one, and both load the server state", async () => {
        const lines = renderHaproxyConfig(SPEC).split("\n");
        const named = lines.indexOf("defaults backend-app");
        const unnamed = lines.indexOf("defaults");
        const frontend = lines.indexOf("frontend fe_lb1");
        assert.ok(named >= 0 && named < unnamed && unnamed < frontend, `order: named ${named}, unnamed ${unnamed}, frontend ${frontend}`);
        assert.equal(lines.filter((l) => l.trim() === "load-server-state-from-file global").length, 2);
        assert.equal(backendDefaultsName("app"), "backend-app");
        assert.equal(serversFilePath("/var/lib/bluegreen/lb/lb1", "app"), "/var/lib/bluegreen/lb/lb1/servers/app.cfg");
    });

    it("has cookie persistence with dynamic cookies, in the backend's settings, only with a dynamic cookie key", async () => {
        const lines = renderHaproxyConfig({ ...SPEC, dynamicCookieKey: KEY }).split("\n");
        const named = lines.indexOf("defaults backend-app");
        const unnamed = lines.indexOf("defaults");
        for (const expected of ["    cookie SRV insert indirect nocache dynamic", `    dynamic-cookie-key ${KEY}`]) {
            const at = lines.indexOf(expected);
            assert.ok(at > named && at < unnamed, `${expected} in the backend's defaults section (line ${at})`);
        }
        assert.doesNotMatch(renderHaproxyConfig(SPEC), /cookie/);
    });

    it("refuses a dynamic cookie key that is short or not letters and digits", async () => {
        for (const bad of [...HOSTILE.map((h) => `${KEY}${h}`), "", "abc", "x".repeat(65)]) rejects({ dynamicCookieKey: bad }, "dynamicCookieKey");
    });

    for (const dynamicCookieKey of [undefined, KEY]) {
        it(`is accepted by haproxy -c -f haproxy.cfg -f servers/ with the initial servers file, without warnings${dynamicCookieKey ? ", with cookie persistence" : ""}`, async () => {
            requireHaproxy();
            const dir = mkdtempSync(join(tmpdir(), "bluegreen-cfg-"));
            try {
                const path = join(dir, "haproxy.cfg");
                mkdirSync(join(dir, "servers"));
                writeFileSync(path, renderHaproxyConfig({ ...SPEC, dir, healthCheck: { ...SPEC.healthCheck, path: "/health?deep=1&x=a-b" }, ...(dynamicCookieKey ? { dynamicCookieKey } : {}) }));
                writeFileSync(serversFilePath(dir, "app"), renderServersFile({ backend: "app", backendDefaults: backendDefaultsName("app") }, new Map()));
                writeFileSync(join(dir, "server-state"), EMPTY_SERVER_STATE);
                const check = spawnSync(haproxyCommand(), ["-c", "-f", path, "-f", join(dir, "servers")], { encoding: "utf8" });
                assert.equal(check.status, 0, check.stdout + check.stderr);
                assert.doesNotMatch(check.stdout + check.stderr, /WARNING|ALERT/, check.stdout + check.stderr);
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });
    }

    it("refuses names and backends that are not HAProxy identifiers", async () => {
        for (const bad of [...HOSTILE, "", "-x", "x".repeat(64), "a/b", "a;b"]) {
            rejects({ name: bad }, "name");
            rejects({ backend: bad }, "backend");
        }
    });

    it("refuses a backend named like the frontend", async () => {
        rejects({ backend: "fe_lb1" }, "backend");
    });

    it("refuses a backend too long for its defaults section's name (backend-<backend>, 63 characters)", async () => {
        assert.doesNotThrow(() => renderHaproxyConfig({ ...SPEC, backend: "b".repeat(55) }));
        rejects({ backend: "b".repeat(56) }, "backend");
    });

    it("accepts a folder whose master socket path is 97 characters, HAProxy's limit", async () => {
        const dir = `/${"x".repeat(97 - "/master.sock".length - 1)}`;
        assert.doesNotThrow(() => renderHaproxyConfig({ ...SPEC, dir }));
        rejects({ dir: `${dir}x` }, "dir");
    });

    it("refuses folders that are relative, unnormalized, unusual or too long for the sockets", async () => {
        for (const bad of [...HOSTILE.map((h) => `/tmp/${h}`), "tmp/lb", "/tmp/../etc", "/tmp/lb/", "/tmp//lb", `/${"x".repeat(100)}`]) {
            rejects({ dir: bad }, "dir");
        }
    });

    it("refuses ports outside 1024..65535", async () => {
        for (const bad of [0, 80, 1023, 65536, 8080.5, NaN, "8080" as unknown as number]) rejects({ frontendPort: bad }, "frontendPort");
    });

    it("refuses health-check values naming the nested field", async () => {
        for (const bad of [...HOSTILE.map((h) => `/${h}`), "health", "", "/a b", "/a<b", `/${"x".repeat(256)}`]) {
            rejects({ healthCheck: { ...SPEC.healthCheck, path: bad } }, "healthCheck.path");
        }
        rejects({ healthCheck: { ...SPEC.healthCheck, expectedStatus: 99 } }, "healthCheck.expectedStatus");
        rejects({ healthCheck: { ...SPEC.healthCheck, intervalMs: 50 } }, "healthCheck.intervalMs");
        rejects({ healthCheck: { ...SPEC.healthCheck, rise: 0 } }, "healthCheck.rise");
        rejects({ healthCheck: { ...SPEC.healthCheck, fall: 1.5 } }, "healthCheck.fall");
        rejects({ healthCheck: null as unknown as LocalHaproxySpec["healthCheck"] }, "healthCheck");
    });
});
