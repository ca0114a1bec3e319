import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normaliseFingerprint, sshFingerprint } from "../../../components/haproxy/transport";

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
});
