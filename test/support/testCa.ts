/**
 * A throwaway certificate authority for TLS tests, made with the `openssl` command-line tool (no shell:
 * every call is `execFile` with an argument array): a CA key and certificate, and a server key and
 * certificate signed by it for `127.0.0.1` and `localhost` (subjectAltName), valid for two days.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { requireBinary } from "../../lab/process";

const run = promisify(execFile);

export interface TestCa {
    /** The CA certificate (PEM): what a client gives as its CA file to verify the server. */
    caFile: string;
    /** The server's key and certificate (PEM text), for 127.0.0.1 and localhost. */
    serverKey: string;
    serverCert: string;
}

async function openssl(args: string[]): Promise<void> {
    try {
        await run("openssl", args);
    } catch (err) {
        const e = err as Error & { stderr?: string };
        throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`);
    }
}

/** Makes the CA and the server certificate in `dir` (which must exist). Fails saying how to install openssl. */
export async function makeTestCa(dir: string): Promise<TestCa> {
    requireBinary("openssl", ["version"], "apt-get install -y openssl");
    const path = (name: string) => join(dir, name);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl(["req", "-x509", ...ec, "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=haproxy-bluegreen test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    await openssl(["req", "-new", ...ec, "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"]);
    await writeFile(path("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    await openssl(["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
        "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext")]);
    return { caFile: path("ca.pem"), serverKey: await readFile(path("server.key"), "utf8"), serverCert: await readFile(path("server.pem"), "utf8") };
}
