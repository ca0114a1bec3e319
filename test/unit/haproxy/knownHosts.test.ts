/**
 * known_hosts parsing and lookup on real `ssh-keygen` output (plain, `[host]:port`, hashed), and the
 * lines that are refused with their line number.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keysForHost, knownHostsProblems, parseKnownHosts, pinnedHostKey } from "../../../src/haproxy/runtime/knownHosts";

/** A fresh host key pair of `type`: its `keytype base64key` and its fingerprint as ssh-keygen prints it. */
function hostKey(dir: string, type: "ed25519" | "ecdsa" | "rsa"): { line: string; fingerprint: string } {
    const file = join(dir, `key_${type}`);
    execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "", "-f", file]);
    const line = readFileSync(`${file}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
    const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`], { encoding: "utf8" }).split(" ")[1];
    return { line, fingerprint };
}

describe("known_hosts", () => {
    let dir: string;
    let ed25519: { line: string; fingerprint: string };
    let ecdsa: { line: string; fingerprint: string };
    let rsa: { line: string; fingerprint: string };

    before(() => {
        dir = mkdtempSync(join(tmpdir(), "known-hosts-"));
        [ed25519, ecdsa, rsa] = (["ed25519", "ecdsa", "rsa"] as const).map((t) => hostKey(dir, t));
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it("parses ssh-keyscan style lines with comments, blank lines, several names and [host]:port", () => {
        const text = ["# lb hosts", "", `lb1.example.com,10.0.1.10 ${ed25519.line}`, `[10.0.1.11]:2222 ${ecdsa.line} a comment`, `10.0.2.5 ${rsa.line}`].join("\n");
        const keys = parseKnownHosts(text);
        assert.deepEqual(
            keys.map((k) => [k.line, k.keyType, k.fingerprint]),
            [
                [3, "ssh-ed25519", ed25519.fingerprint],
                [4, "ecdsa-sha2-nistp256", ecdsa.fingerprint],
                [5, "ssh-rsa", rsa.fingerprint],
            ],
        );
        assert.deepEqual(keysForHost(keys, "10.0.1.10", 22).map((k) => k.line), [3]);
        assert.deepEqual(keysForHost(keys, "LB1.example.com", 22).map((k) => k.line), [3], "names compare case-insensitively");
        assert.deepEqual(keysForHost(keys, "10.0.1.11", 2222).map((k) => k.line), [4]);
        assert.deepEqual(keysForHost(keys, "10.0.1.11", 22), [], "[host]:port names only that port");
        assert.deepEqual(keysForHost(keys, "10.0.1.10", 2222), [], "a plain name is port 22 only, as in OpenSSH");
        assert.deepEqual(keysForHost(keys, "10.0.9.9", 22), []);
    });

    it("matches hashed names written by ssh-keygen -H, on port 22 and on another port", () => {
        const file = join(dir, "known_hosts");
        writeFileSync(file, `10.0.2.5 ${ed25519.line}\n[10.0.2.6]:2200 ${ecdsa.line}\n`);
        execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
        const hashed = readFileSync(file, "utf8");
        assert.ok(!hashed.includes("10.0.2."), `the names are hashed:\n${hashed}`);
        const keys = parseKnownHosts(hashed);
        assert.deepEqual(keysForHost(keys, "10.0.2.5", 22).map((k) => k.fingerprint), [ed25519.fingerprint]);
        assert.deepEqual(keysForHost(keys, "10.0.2.6", 2200).map((k) => k.fingerprint), [ecdsa.fingerprint]);
        assert.deepEqual(keysForHost(keys, "10.0.2.6", 22), []);
    });

    it("refuses markers, wildcards, negations, unknown key types and keys that are not what they claim, naming the line", () => {
        const bad: [string, RegExp][] = [
            [`@cert-authority *.example.com ${ed25519.line}`, /markers .* are not supported/],
            [`@revoked 10.0.0.1 ${ed25519.line}`, /markers .* are not supported/],
            [`*.example.com ${ed25519.line}`, /wildcard and negated patterns are not supported/],
            [`10.0.0.?,!10.0.0.5 ${ed25519.line}`, /wildcard and negated patterns are not supported/],
            [`10.0.0.1 ssh-dss AAAAB3NzaC1kc3M=`, /key type "ssh-dss": expected one of ssh-ed25519, /],
            [`10.0.0.1 ssh-rsa ${ed25519.line.split(" ")[1]}`, /the key is not a base64 ssh-rsa public key/],
            [`10.0.0.1 ssh-ed25519 not*base64`, /the key is not a base64 ssh-ed25519 public key/],
            [`10.0.0.1 ssh-ed25519`, /`host\[,host2\] keytype base64key`/],
            [`|1|bad ${ed25519.line}`, /hashed \|1\|salt\|hash/],
        ];
        for (const [line, reason] of bad) {
            const text = `# first\n${line}\n`;
            assert.deepEqual(knownHostsProblems(text).length, 1, line);
            assert.match(knownHostsProblems(text)[0], new RegExp(`^line 2: .*${reason.source}`), line);
            assert.throws(() => parseKnownHosts(text, "sshKnownHosts"), { name: "RuntimeInputError", message: /^sshKnownHosts line 2: / }, line);
        }
        assert.deepEqual(knownHostsProblems(`10.0.0.1 ${ed25519.line}\n\n# ok\n`), []);
    });

    it("pins the key type the Go SSH client negotiates first (ECDSA before RSA before Ed25519), in keytype base64 form", () => {
        const text = [`db ${ed25519.line}`, `db ${rsa.line}`, `db ${ecdsa.line}`, `other ${ecdsa.line}`].join("\n");
        assert.equal(pinnedHostKey(text, "db"), ecdsa.line);
        assert.equal(pinnedHostKey([`db ${ed25519.line}`, `db ${rsa.line}`].join("\n"), "db"), rsa.line);
        assert.equal(pinnedHostKey(`db ${ed25519.line}`, "db"), ed25519.line);
        assert.equal(pinnedHostKey(text, "nowhere"), undefined);
    });
});
