/**
 * The `__provider` module text: small, naming only the package's provider entry point and a kind, and
 * loading the provider the way the dynamic-provider host does (require the text as a module, call
 * `handler()`); the entry point's kinds, and the package export that makes it reachable.
 */
import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PROVIDER_KINDS, provider } from "../../../src/provider/dispatch";
import { providerModuleText } from "../../../src/provider/providerShim";

const ROOT = join(__dirname, "..", "..", "..");
const DISPATCH = join(ROOT, "src", "provider", "dispatch");
const requireFromString = require(require.resolve("require-from-string", { paths: [require.resolve("@pulumi/pulumi")] })) as (text: string) => { handler(): unknown };

/** Every `*Provider.ts` under `dir`, absolute, without extension. */
function providerModules(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? providerModules(join(dir, e.name)) : e.name.endsWith("Provider.ts") ? [join(dir, e.name.slice(0, -".ts".length))] : [],
    );
}

describe("provider module text", () => {
    it("stores the entry point relative to the program directory and the kind, in a few hundred bytes", () => {
        const text = providerModuleText("membership", DISPATCH, ROOT);
        assert.match(text, /resolve\("src\/provider\/dispatch"\)\)\.provider\("membership"\)/);
        assert.ok(!text.includes(ROOT), "no absolute path");
        assert.ok(Buffer.byteLength(text) < 400, `${Buffer.byteLength(text)} bytes`);
    });

    it("refuses an entry point outside the program directory", () => {
        assert.throws(() => providerModuleText("membership", "/elsewhere/dispatch", ROOT), /outside the program directory/);
    });

    it("gives the host the provider of the kind", () => {
        const cwd = process.cwd();
        process.chdir(ROOT);
        try {
            const gate = requireFromString(providerModuleText("healthGate", DISPATCH, ROOT)).handler();
            assert.equal(gate, require("../../../src/gate/healthGateProvider").default);
        } finally {
            process.chdir(cwd);
        }
    });

    it("compiled: finds the entry point by its package export from wherever the program lives, without ts-node or internal paths", () => {
        const dir = mkdtempSync(join(tmpdir(), "shim-"));
        const cwd = process.cwd();
        try {
            const pkg = join(dir, "pkg");
            mkdirSync(join(pkg, "dist", "provider"), { recursive: true });
            writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "some-plugin", exports: { "./provider": "./dist/provider/dispatch.js" } }));
            writeFileSync(join(pkg, "dist", "provider", "dispatch.js"), "exports.provider = (kind) => ({ compiled: kind });");
            const program = join(dir, "program");
            mkdirSync(join(program, "node_modules"), { recursive: true });
            symlinkSync(pkg, join(program, "node_modules", "some-plugin"), "dir");
            const text = providerModuleText("healthGate", join(pkg, "dist", "provider", "dispatch"), "/unrelated");
            assert.equal(text, 'exports.handler=()=>require(require.resolve("some-plugin/provider",{paths:[process.cwd()]})).provider("healthGate")');
            process.chdir(program);
            assert.deepEqual(requireFromString(text).handler(), { compiled: "healthGate" });
        } finally {
            process.chdir(cwd);
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("provider entry point (haproxy-bluegreen/provider)", () => {
    it("has the documented kinds, and every provider module of the package is one of them", () => {
        assert.deepEqual(PROVIDER_KINDS, [
            "membership",
            "poolMembership",
            "adoption",
            "orphanSweep",
            "healthGate",
            "frozenGenerations",
            "localLoadBalancer",
            "localAppServers",
            "localDatabase",
            "localSnapshot",
            "localMigration",
            "awsGroupInstances",
            "awsScalingHold",
            "awsScalingRelease",
        ]);
        const served = new Set(PROVIDER_KINDS.map(provider));
        for (const module of providerModules(join(ROOT, "src"))) {
            assert.ok(served.has(require(module).default), `${relative(ROOT, module)} has a kind`);
        }
        assert.equal(served.size, PROVIDER_KINDS.length, "one provider per kind");
    });

    it("refuses an unknown kind, naming it and the known ones", () => {
        assert.throws(() => provider("appServer"), (err: Error) => {
            assert.match(err.message, /no dynamic provider of kind "appServer"/);
            assert.ok(err.message.includes(`known kinds: ${PROVIDER_KINDS.join(", ")}`), err.message);
            return true;
        });
        assert.throws(() => provider("toString"), /no dynamic provider of kind "toString"/, "only the map's own keys");
    });

    it("is the package's `haproxy-bluegreen/provider` export, beside the main entry", () => {
        const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { main: string; types: string; exports: Record<string, { types: string; default: string }> };
        assert.deepEqual(Object.keys(manifest.exports), [".", "./provider"]);
        assert.deepEqual(manifest.exports["."], { types: `./${manifest.types}`, default: `./${manifest.main}` });
        // tsconfig.build.json compiles src/ into dist/src/.
        assert.deepEqual(manifest.exports["./provider"], { types: "./dist/src/provider/dispatch.d.ts", default: "./dist/src/provider/dispatch.js" });
    });
});
