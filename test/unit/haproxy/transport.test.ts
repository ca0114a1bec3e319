import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostKeyPolicy, normaliseFingerprint } from "../../../src/haproxy/runtime/hostKeys";
import { resolveTransportOptions, sshFingerprint, sshOptionsFor } from "../../../src/haproxy/runtime/transport";

/** A fresh ed25519 public key: its raw blob and its `keytype base64key` line. */
function freshKey(): { blob: Buffer; line: string } {
    const dir = mkdtempSync(join(tmpdir(), "hostkey-"));
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "k")]);
        const line = readFileSync(join(dir, "k.pub"), "utf8").trim();
        return { blob: Buffer.from(line.split(" ")[1], "base64"), line };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

describe("haproxy transport (pure parts)", () => {
    it("sshFingerprint matches what ssh-keygen -lf prints", async () => {
        const dir = mkdtempSync(join(tmpdir(), "fingerprint-"));
        try {
            execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
            const blob = Buffer.from(readFileSync(join(dir, "k.pub"), "utf8").split(" ")[1], "base64");
            const printed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "k.pub")], { encoding: "utf8" });
            assert.equal(sshFingerprint(blob), printed.split(" ")[1]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("normaliseFingerprint accepts SHA256:<base64> and bare base64, and rejects anything else", async () => {
        const b64 = "a".repeat(42) + "Q";
        assert.equal(normaliseFingerprint(`SHA256:${b64}`), `SHA256:${b64}`);
        assert.equal(normaliseFingerprint(`${b64}=`), `SHA256:${b64}`);
        for (const bad of ["", "MD5:ab:cd", `SHA256:${b64}x`, "SHA256:short"]) {
            assert.throws(() => normaliseFingerprint(bad), { name: "RuntimeInputError", message: /^ssh\.hostKeySha256: / }, bad);
        }
    });

    describe("host key policy", () => {
        const privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n-----END OPENSSH PRIVATE KEY-----\n";
        let lb: { blob: Buffer; line: string };
        let other: { blob: Buffer; line: string };
        before(() => {
            [lb, other] = [freshKey(), freshKey()];
        });

        it("refuses an unknown host by default, naming the host, the presented fingerprint and the config keys", () => {
            const refusal = hostKeyPolicy("10.0.1.10", 2222, { privateKey }).check(lb.blob);
            assert.ok(refusal);
            assert.ok(refusal.includes(`host key ${sshFingerprint(lb.blob)} (ssh-ed25519) of [10.0.1.10]:2222 is unknown`), refusal);
            for (const key of ["haproxy.loadBalancers[].sshHostKeySha256", "sshKnownHosts", "sshAllowUnknownHostKeys: true", "ssh-keyscan -p 2222 10.0.1.10"]) {
                assert.ok(refusal.includes(key), `"${key}" in: ${refusal}`);
            }
            assert.ok(!refusal.includes(privateKey));
        });

        it("accepts an unknown host only with allowUnknownHostKey", () => {
            assert.equal(hostKeyPolicy("10.0.1.10", 22, { privateKey, allowUnknownHostKey: true }).check(lb.blob), undefined);
        });

        it("checks the fingerprint when known_hosts does not list the host", () => {
            const policy = hostKeyPolicy("10.0.1.10", 22, { privateKey, hostKeySha256: sshFingerprint(lb.blob), knownHosts: `10.9.9.9 ${other.line}\n` });
            assert.equal(policy.check(lb.blob), undefined);
            assert.equal(policy.algorithms, undefined, "ssh2's default host key algorithms");
            assert.equal(policy.check(other.blob), `host key ${sshFingerprint(other.blob)} does not match hostKeySha256 ${sshFingerprint(lb.blob)}`);
        });

        it("uses the known_hosts entries of a listed host before the fingerprint, and offers only their key types", () => {
            const credentials = { privateKey, hostKeySha256: sshFingerprint(other.blob), knownHosts: `[10.0.1.10]:2222 ${lb.line}\n` };
            const policy = hostKeyPolicy("10.0.1.10", 2222, credentials);
            assert.deepEqual(policy.algorithms, ["ssh-ed25519"]);
            assert.equal(policy.check(lb.blob), undefined);
            assert.equal(
                policy.check(other.blob),
                `host key ${sshFingerprint(other.blob)} (ssh-ed25519) of [10.0.1.10]:2222 does not match its sshKnownHosts entries (${sshFingerprint(lb.blob)})`,
            );
        });

        it("sshOptionsFor: a load balancer's own fingerprint replaces known_hosts and the global fingerprint", () => {
            const credentials = { privateKey, passphrase: "p", hostKeySha256: sshFingerprint(other.blob), knownHosts: `10.0.1.10 ${other.line}\n` };
            assert.equal(sshOptionsFor({}, credentials), credentials);
            const own = sshOptionsFor({ hostKeySha256: sshFingerprint(lb.blob) }, credentials);
            assert.deepEqual(own, { privateKey, passphrase: "p", hostKeySha256: sshFingerprint(lb.blob) });
            assert.equal(hostKeyPolicy("10.0.1.10", 22, own).check(lb.blob), undefined);
            assert.ok(hostKeyPolicy("10.0.1.10", 22, credentials).check(lb.blob), "without it, known_hosts refuses that key");
        });

        it("resolveTransportOptions refuses bad known_hosts text and a non-boolean allowUnknownHostKey, naming the field", () => {
            assert.throws(() => resolveTransportOptions({ ssh: { privateKey, knownHosts: "*.example.com ssh-ed25519 AAAA" } }), {
                name: "RuntimeInputError",
                message: /^ssh\.knownHosts line 1: .*wildcard/,
            });
            assert.throws(() => resolveTransportOptions({ ssh: { privateKey, allowUnknownHostKey: "yes" as unknown as boolean } }), {
                name: "RuntimeInputError",
                message: /^ssh\.allowUnknownHostKey: "yes" is not allowed; expected true or false/,
            });
            assert.throws(() => resolveTransportOptions({ sshIdleTimeoutMs: 0 }), { name: "RuntimeInputError", message: /^sshIdleTimeoutMs: / });
        });
    });
});
