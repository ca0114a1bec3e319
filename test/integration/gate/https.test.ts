/** The health gate and smoke check speak https too, verifying the certificate (issue: https:// frontends failed the smoke check). */
import * as assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import provider, { gateProblem, probe } from "../../../src/gate/healthGateProvider";
import { startHttpsServer, type TestHttpServer } from "../../../lab/httpServer";
import { makeTestCa } from "../../support/testCa";

describe("health gate over https", function () {
    this.timeout(60_000);
    let dir: string;
    let server: TestHttpServer;
    let ca: string;

    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "gate-https-"));
        const tls = await makeTestCa(dir);
        ca = await readFile(tls.caFile, "utf8");
        server = await startHttpsServer("tls", { key: tls.serverKey, cert: tls.serverCert });
    });
    after(async () => {
        await server?.stop();
        await rm(dir, { recursive: true, force: true });
    });

    it("verifies the certificate: refused without the CA, 200 with it", async () => {
        const url = `https://127.0.0.1:${server.port}/health`;
        const untrusted = await probe(url);
        assert.equal(typeof untrusted, "string", `an unverified certificate is an error, not ${untrusted}`);
        assert.match(String(untrusted), /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
        assert.equal(await probe(url, ca), 200);
    });

    it("a gate on an https:// target passes with caCertificate; the URL check accepts https", async () => {
        const inputs = { targets: [{ name: "lb1", url: `https://localhost:${server.port}/health` }], expectedStatus: 200, timeoutMs: 5000, intervalMs: 50, consecutive: 2, caCertificate: ca };
        assert.equal(gateProblem(inputs), undefined);
        const { outs } = await provider.create(inputs);
        assert.ok(outs.passedInMs >= 0);
        assert.equal(gateProblem({ ...inputs, caCertificate: "not a cert" })?.property, "caCertificate");
        assert.equal(gateProblem({ ...inputs, targets: [{ name: "x", url: "ftp://a/b" }] })?.property, "targets[0].url");
    });
});
