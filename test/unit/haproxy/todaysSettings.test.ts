/**
 * Deletes with today's settings: a membership being deleted drains with the drain settings and SSH
 * credentials that this update's memberships of the same backend announced, and keeps what the server
 * was attached with (drain method, health file).
 */
import * as assert from "node:assert/strict";
import { resolveMembershipSpec } from "../../../src/haproxy/membershipSpec";
import { announceSettings, forgetAnnouncedSettings, withTodaysSettings } from "../../../src/haproxy/todaysSettings";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n";
const spec = (over: Record<string, unknown>) =>
    resolveMembershipSpec({ loadBalancers: [{ name: "lb1", endpoint: "ssh://ops@10.0.1.10/run/haproxy/admin.sock", serversFile: "/etc/haproxy/bluegreen/app.cfg" }], backend: "app", server: "app-g1-0", address: "10.0.2.1", port: 8080, ...over });

describe("today's settings for deletes", () => {
    afterEach(forgetAnnouncedSettings);

    it("a stored membership drains with the announced timeout and onTimeout of its backend, and connects with today's key", () => {
        const stored = spec({ ssh: { privateKey: KEY, passphrase: "old" }, drain: { timeoutMs: 60_000, onTimeout: "fail" } });
        announceSettings(spec({ server: "app-g2-0", ssh: { privateKey: KEY, passphrase: "rotated" }, drain: { timeoutMs: 2_000, onTimeout: "force" } }));
        const today = withTodaysSettings(stored);
        assert.equal(today.drain.timeoutMs, 2_000);
        assert.equal(today.drain.onTimeout, "force");
        assert.equal(today.ssh?.passphrase, "rotated");
        assert.equal(today.server, "app-g1-0", "the server itself is the stored one");
    });

    it("keeps the drain method and health file the server was attached with", () => {
        const stored = spec({ drain: { method: "healthcheck", healthFile: "file:///srv/g1/health" }, ssh: { privateKey: KEY } });
        announceSettings(spec({ server: "app-g2-0", drain: { method: "healthcheck", healthFile: "file:///srv/g2/health", timeoutMs: 5_000 }, ssh: { privateKey: KEY } }));
        const today = withTodaysSettings(stored);
        assert.equal(today.drain.healthFile, "file:///srv/g1/health");
        assert.equal(today.drain.timeoutMs, 5_000);
    });

    it("another backend's announcement, or none, leaves the stored settings", () => {
        const stored = spec({ drain: { timeoutMs: 60_000 }, ssh: { privateKey: KEY } });
        assert.deepEqual(withTodaysSettings(stored), stored);
        announceSettings(spec({ backend: "other", drain: { timeoutMs: 1_000 }, ssh: { privateKey: KEY } }));
        assert.deepEqual(withTodaysSettings(stored), stored);
    });
});
