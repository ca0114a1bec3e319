/**
 * The `__provider` module text: small, relative to the program directory, and loading the provider
 * module the way the dynamic-provider host does (require the text as a module, call `handler()`).
 */
import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { providerModuleText } from "../../../src/provider/providerShim";

const ROOT = join(__dirname, "..", "..", "..");

describe("provider module text", () => {
    it("stores the provider module relative to the program directory, in a few hundred bytes", () => {
        const text = providerModuleText(join(ROOT, "src", "haproxy", "membershipProvider"), ROOT);
        assert.match(text, /resolve\("src\/haproxy\/membershipProvider"\)/);
        assert.ok(!text.includes(ROOT), "no absolute path");
        assert.ok(Buffer.byteLength(text) < 400, `${Buffer.byteLength(text)} bytes`);
    });

    it("refuses a provider module outside the program directory", () => {
        assert.throws(() => providerModuleText("/elsewhere/provider", ROOT), /outside the program directory/);
    });

    it("gives the host the provider module's default export", () => {
        const requireFromString = require(require.resolve("require-from-string", { paths: [require.resolve("@pulumi/pulumi")] }));
        const text = providerModuleText(join(ROOT, "src", "gate", "healthGateProvider"), ROOT);
        const cwd = process.cwd();
        process.chdir(ROOT);
        try {
            const provider = requireFromString(text).handler();
            assert.equal(provider, require("../../../src/gate/healthGateProvider").default);
        } finally {
            process.chdir(cwd);
        }
    });

    it("compiled: finds the provider by package name from wherever the program lives, without ts-node", () => {
        const requireFromString = require(require.resolve("require-from-string", { paths: [require.resolve("@pulumi/pulumi")] }));
        const dir = mkdtempSync(join(tmpdir(), "shim-"));
        const cwd = process.cwd();
        try {
            const pkg = join(dir, "pkg");
            mkdirSync(join(pkg, "dist", "gate"), { recursive: true });
            writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "some-plugin" }));
            writeFileSync(join(pkg, "dist", "gate", "provider.js"), "exports.default = { compiled: true };");
            const program = join(dir, "program");
            mkdirSync(join(program, "node_modules"), { recursive: true });
            symlinkSync(pkg, join(program, "node_modules", "some-plugin"), "dir");
            const text = providerModuleText(join(pkg, "dist", "gate", "provider"), "/unrelated");
            assert.match(text, /require\.resolve\("some-plugin\/dist\/gate\/provider"/);
            assert.ok(!text.includes("ts-node") && !text.includes(dir), text);
            process.chdir(program);
            assert.deepEqual(requireFromString(text).handler(), { compiled: true });
        } finally {
            process.chdir(cwd);
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
