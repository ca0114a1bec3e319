/**
 * A real OpenSSH server for tests: `/usr/sbin/sshd -D` on a free loopback port, running as the
 * current user, with its own host key and two authorized ED25519 client keys (one unencrypted, one
 * protected by a passphrase), all generated with `ssh-keygen` in a temp dir. Streamlocal (UNIX
 * socket) forwarding is allowed, which is what the Runtime API client uses, and SFTP (internal-sftp),
 * which the servers files are written with.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "../../lab/ports";
import { requireBinary, startProcess } from "../../lab/process";

const SSHD = "/usr/sbin/sshd";
/** sshd's privilege separation directory (Debian); sshd refuses to start without it. */
const PRIVSEP_DIR = "/run/sshd";

export interface TestSshd {
    readonly host: "127.0.0.1";
    readonly port: number;
    /** The current user, who may log in with either key. */
    readonly username: string;
    /** Host key fingerprint, `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
    readonly hostKeySha256: string;
    /** Unencrypted private key (OpenSSH format). */
    readonly privateKey: string;
    /** Passphrase-protected private key (OpenSSH format) and its passphrase. */
    readonly encryptedPrivateKey: string;
    readonly passphrase: string;
    /** `ssh://<user>@127.0.0.1:<port><socketPath>` */
    url(socketPath: string): string;
    /** Makes `key` the only client key that may log in (a key rotation on the host); new logins only. */
    authorizeOnly(key: "privateKey" | "encryptedPrivateKey"): Promise<void>;
    /** Stops sshd and removes the temp dir. */
    stop(): Promise<void>;
}

/** The sshd_config of the harness. */
function sshdConfig(dir: string, port: number): string {
    return [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_key")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "AllowStreamLocalForwarding yes",
        "Subsystem sftp internal-sftp",
        "StrictModes no",
        "UsePAM no",
        "",
    ].join("\n");
}

/** Starts sshd and waits until it sends its SSH banner. */
export async function startSshd(): Promise<TestSshd> {
    requireBinary(SSHD, ["-V"], "apt-get install -y openssh-server");
    await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
    const dir = await mkdtemp(join(tmpdir(), "sshd-test-"));
    const passphrase = randomBytes(12).toString("hex");
    const keygen = (file: string, pass: string) =>
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", pass, "-C", file, "-f", join(dir, file)]);
    keygen("host_key", "");
    keygen("client_key", "");
    keygen("client_key_encrypted", passphrase);
    const publicKeys = await Promise.all(["client_key", "client_key_encrypted"].map((f) => readFile(join(dir, `${f}.pub`), "utf8")));
    await writeFile(join(dir, "authorized_keys"), publicKeys.join(""));
    const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "host_key.pub")], { encoding: "utf8" });
    const port = await freePort();
    await writeFile(join(dir, "sshd_config"), sshdConfig(dir, port));
    const proc = await startProcess(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], () => banner(port)).catch(
        async (err) => {
            await rm(dir, { recursive: true, force: true });
            throw err;
        },
    );
    const username = userInfo().username;
    return {
        host: "127.0.0.1",
        port,
        username,
        hostKeySha256: fingerprint.split(" ")[1],
        privateKey: await readFile(join(dir, "client_key"), "utf8"),
        encryptedPrivateKey: await readFile(join(dir, "client_key_encrypted"), "utf8"),
        passphrase,
        url: (socketPath) => `ssh://${username}@127.0.0.1:${port}${socketPath}`,
        async authorizeOnly(key) {
            await writeFile(join(dir, "authorized_keys"), publicKeys[key === "privateKey" ? 0 : 1]);
        },
        async stop() {
            await proc.stop();
            await rm(dir, { recursive: true, force: true });
        },
    };
}

/** True once something on 127.0.0.1:`port` sends an SSH identification line. */
function banner(port: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("error", reject);
        socket.once("data", (d) => {
            socket.destroy();
            resolve(d.toString().startsWith("SSH-"));
        });
    });
}
