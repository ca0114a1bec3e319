/**
 * The package as users get it: `npm pack` of this repository (prepack compiles dist/ with tsc), installed
 * with npm into fresh Pulumi programs made from examples/ in a temporary folder outside the repository
 * (two in TypeScript, one in plain JavaScript), each driven through the real engine on its own file
 * backend, Pulumi home and local state: `up`, a flip under traffic with zero failed requests, `destroy`,
 * checked against the real HAProxy processes. One program also lives through a release that moves an
 * internal provider file: the state names only `haproxy-bluegreen/provider` and a kind. Nothing is
 * written into the repository but dist/ (ignored).
 *
 * npm installs with `--prefer-offline` at the versions this repository uses (npm's cache usually has
 * them; otherwise the registry is asked).
 */
import * as assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { stateFolder } from "../../lab/stateFolder";
import type { Stack } from "@pulumi/pulumi/automation";
import { RuntimeClient } from "../../src/haproxy/runtime/client";
import { EXAMPLES, consumerStack, installExample, pack, run, type Consumer, type Packed } from "../../lab/consumerProgram";
import { PROJECT_ROOT, requireEngine, type ScratchBackend } from "../../lab/engine";
import { requireHaproxy, startHaproxy, type RunningHaproxy } from "../../lab/haproxy";
import { startHttpServer, type TestHttpServer } from "../../lab/httpServer";
import { httpGet, killProcessesUsing, processesUsing } from "../../lab/localProcesses";
import { freePort } from "../../lab/ports";
import { flipUnderTraffic, type FlipRun } from "../../scripts/lib/flip";
import { Traffic, type TrafficResult } from "../../scripts/lib/traffic";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Every `__provider` text stored in the stack's state. */
async function storedProviders(stack: Stack): Promise<string[]> {
    const state = await stack.exportStack();
    const resources = (state.deployment as { resources?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[] }).resources ?? [];
    return resources.flatMap((r) => [r.inputs?.__provider, r.outputs?.__provider]).filter((p): p is string => typeof p === "string");
}

/** Where the engine records which line of the program registered a resource: debug metadata it never loads. */
const REGISTRATION_SITE_KEYS = ["sourcePosition", "stackTrace"];

/** The places in `value` (paths like `.resources[3].outputs.__provider`) whose text names `dist/src`, besides registration sites. */
function internalPaths(value: unknown, at = ""): string[] {
    if (typeof value === "string") return value.includes("dist/src") ? [at] : [];
    if (Array.isArray(value)) return value.flatMap((v, i) => internalPaths(v, `${at}[${i}]`));
    if (value && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => (REGISTRATION_SITE_KEYS.includes(k) ? [] : internalPaths(v, `${at}.${k}`)));
    }
    return [];
}

/**
 * The dynamic providers load the installed package's compiled JavaScript through its one provider entry
 * point, by kind, not ts-node; nothing else in the state names an internal file of the package.
 */
async function assertCompiledProviders(stack: Stack): Promise<void> {
    const providers = await storedProviders(stack);
    assert.ok(providers.length > 0, "the state holds dynamic resources");
    for (const text of providers) {
        assert.match(text, /^exports\.handler=\(\)=>require\(require\.resolve\("haproxy-bluegreen\/provider",\{paths:\[process\.cwd\(\)\]\}\)\)\.provider\("[a-zA-Z]+"\)$/, text);
    }
    assert.deepEqual(internalPaths((await stack.exportStack()).deployment), [], "no internal path in the state");
}

/** Every `.js` file under `dir`. */
function javaScriptFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? javaScriptFiles(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : []));
}

/**
 * Moves the compiled module `from` of the package installed at `pkg` to `to` (paths inside the package,
 * without `.js`), as a release that moved the source file would ship it: the module's own relative
 * requires and every require of it in the package follow. Returns the files that required it.
 */
function moveInstalledModule(pkg: string, from: string, to: string): string[] {
    const [oldFile, newFile] = [join(pkg, `${from}.js`), join(pkg, `${to}.js`)];
    const specifier = (file: string, target: string) => {
        const path = relative(dirname(file), target).split(sep).join("/");
        return JSON.stringify(path.startsWith(".") ? path : `./${path}`);
    };
    mkdirSync(dirname(newFile), { recursive: true });
    const text = readFileSync(oldFile, "utf8");
    writeFileSync(newFile, text.replace(/require\("(\.\.?\/[^"]+)"\)/g, (_call, path: string) => `require(${specifier(newFile, join(dirname(oldFile), path))})`));
    rmSync(oldFile);
    return javaScriptFiles(join(pkg, "dist")).flatMap((file) => {
        const before = readFileSync(file, "utf8");
        const after = before.split(`require(${specifier(file, oldFile.slice(0, -3))})`).join(`require(${specifier(file, newFile.slice(0, -3))})`);
        if (after === before) return [];
        writeFileSync(file, after);
        return [relative(pkg, file).split(sep).join("/")];
    });
}

/** Server names and status in `backend` of the HAProxy behind `endpoint`, sorted. */
async function backendServers(endpoint: string, backend = "app"): Promise<string[]> {
    const client = new RuntimeClient(endpoint);
    try {
        const rows = await client.showStat(backend);
        return rows.filter((r) => r.svname !== "BACKEND" && r.svname !== "FRONTEND").map((r) => `${r.svname} ${r.status}`).sort();
    } finally {
        await client.close();
    }
}

function assertNoFailures(traffic: TrafficResult, atLeast: number): void {
    assert.ok(traffic.total >= atLeast, `enough traffic to mean something: ${traffic.total}`);
    assert.deepEqual(traffic.failed.map((f) => `${f.kind} ${f.url}: ${f.error}`), [], "no request failed");
}

describe("the package as users get it: packed, installed into fresh programs outside the repository", function () {
    this.timeout(600_000);
    let root: string;
    let packed: Packed;
    const consumers: Record<string, Consumer> = {};

    before(async () => {
        requireEngine();
        requireHaproxy();
        root = stateFolder("bluegreen-package-");
        packed = await pack(root);
        const installStarted = Date.now();
        const installed = await Promise.all(
            readdirSync(EXAMPLES, { withFileTypes: true })
                .filter((e) => e.isDirectory())
                .map((e) => installExample(root, e.name, packed.tarball)),
        );
        for (const c of installed) consumers[c.name] = c;
        console.log(
            `      npm pack: ${seconds(packed.ms)} (${packed.files.length} files, ${(packed.size / 1024).toFixed(1)} kB); ` +
                `npm install of ${installed.length} programs in parallel: ${seconds(Date.now() - installStarted)} ` +
                `(${installed.map((c) => `${c.name} ${seconds(c.installMs)}`).join(", ")})`,
        );
    });

    after(() => {
        if (!root) return;
        killProcessesUsing(root); // anything a failed test left running under the programs or their state
        rmSync(root, { recursive: true, force: true });
    });

    it("the tarball holds compiled JavaScript, type declarations, the demo app's SQL migrations, README, LICENSE and package.json, and nothing else", async () => {
        const extra = packed.files.filter(
            (f) => !["README.md", "LICENSE", "package.json"].includes(f) && !/^dist\/(src|app)\/.+\.(js|d\.ts)$/.test(f) && !/^app\/migrations\/[^/]+\.sql$/.test(f),
        );
        assert.deepEqual(extra, []);
        for (const f of ["README.md", "LICENSE", "package.json", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/haproxy/membershipProvider.js", "dist/app/server.js", "app/migrations/0001_create_items.sql"]) {
            assert.ok(packed.files.includes(f), `${f} is in the tarball`);
        }
        assert.deepEqual(packed.files.filter((f) => /^(test|lab|scripts|program|src|examples|engine)\//.test(f) || /^app\/(?!migrations\/)/.test(f) || /(?<!\.d)\.ts$/.test(f)), []);
        // What `npm pack --dry-run` lists is what the tarball holds.
        const dryRun = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], PROJECT_ROOT);
        const listed = (JSON.parse(dryRun.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path).sort();
        assert.deepEqual(listed, packed.files);
        const inTarball = (await run("tar", ["-tzf", packed.tarball], root)).stdout.trim().split("\n").map((p) => p.replace(/^package\//, "")).sort();
        assert.deepEqual(inTarball, packed.files);
    });

    it("installs into programs outside the repository that have no ts-node, and loads in plain Node.js", async () => {
        assert.deepEqual(Object.keys(consumers).sort(), ["bring-your-own-servers", "local-blue-green", "local-blue-green-js"]);
        for (const c of Object.values(consumers)) {
            assert.ok(relative(PROJECT_ROOT, c.dir).startsWith(`..${sep}`), `${c.dir} is outside the repository`);
            assert.throws(() => require.resolve("ts-node", { paths: [c.dir] }), /Cannot find module/, `${c.name} has no ts-node`);
            const manifest = JSON.parse(readFileSync(join(c.dir, "node_modules", "haproxy-bluegreen", "package.json"), "utf8")) as Record<string, Record<string, string>>;
            assert.deepEqual(Object.keys(manifest.dependencies ?? {}).sort(), ["pg", "ssh2"], "run-time dependencies: the SSH transport, and PostgreSQL for the local target's demo app");
            assert.ok(manifest.peerDependencies["@pulumi/pulumi"], "@pulumi/pulumi is a peer dependency");
            const api = (await run("node", ["-e", 'console.log(Object.keys(require("haproxy-bluegreen")).sort().join(" "))'], c.dir)).stdout;
            for (const name of ["BlueGreenDeployment", "Membership", "PoolMembership", "localTarget", "awsTarget", "RuntimeClient", "planDeployment"]) {
                assert.ok(api.split(" ").includes(name), `${c.name}: require("haproxy-bluegreen") has ${name}: ${api}`);
            }
        }
    });

    it("the TypeScript programs type-check against the installed package's declarations", async () => {
        const typescript = Object.values(consumers).filter((c) => c.typescript);
        assert.equal(typescript.length, 2);
        // The examples' tsconfig is Pulumi's template's: no skipLibCheck, so the package's .d.ts are checked too.
        await Promise.all(typescript.map((c) => run(join(c.dir, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "."], c.dir)));
    });

    describe("bring-your-own-servers (TypeScript): Membership only, against existing load balancers", () => {
        let lbs: RunningHaproxy[] = [];
        const servers: Record<string, TestHttpServer> = {};
        let stack: Stack;
        let backend: ScratchBackend | undefined;
        let loadBalancers: { name: string; endpoint: string; serversFile: string; backendDefaults: string }[] = [];
        const list = (names: string[]) => names.map((name) => ({ name, address: "127.0.0.1", port: servers[name].port }));

        before(async () => {
            lbs = await Promise.all([startHaproxy(), startHaproxy()]);
            for (const name of ["blue-0", "blue-1", "green-0", "green-1"]) servers[name] = await startHttpServer(name);
            ({ stack, backend } = await consumerStack(consumers["bring-your-own-servers"], root));
            loadBalancers = lbs.map((lb, i) => ({ name: `lb${i + 1}`, endpoint: lb.unixAdmin, serversFile: lb.serversFile, backendDefaults: lb.backendDefaults }));
            await stack.setAllConfig({
                loadBalancers: { value: JSON.stringify(loadBalancers) },
                servers: { value: JSON.stringify(list(["blue-0", "blue-1"])) },
                checkIntervalMs: { value: "200" },
            });
        });
        after(async () => {
            await Promise.all(lbs.map((lb) => lb.stop()));
            await Promise.all(Object.values(servers).map((s) => s.stop()));
            backend?.dispose();
        });

        async function assertServing(names: string[]): Promise<void> {
            for (const lb of lbs) {
                assert.deepEqual(await backendServers(lb.unixAdmin), names.map((n) => `${n} UP`), lb.dir);
                const file = readFileSync(lb.serversFile, "utf8");
                for (const s of Object.values(servers)) {
                    const line = `server ${s.name} 127.0.0.1:${s.port}`;
                    assert.equal(file.includes(line), names.includes(s.name), `${lb.serversFile} ${names.includes(s.name) ? "has" : "has no"} ${line}:\n${file}`);
                }
            }
        }

        it("up attaches the given servers to every load balancer: UP in show stat, written in the servers files", async () => {
            const up = await stack.up();
            assert.equal(up.summary.result, "succeeded");
            await assertServing(["blue-0", "blue-1"]);
            assert.deepEqual(
                (up.outputs.attached.value as { server: string; loadBalancers: string[] }[]).map((a) => `${a.server}: ${[...a.loadBalancers].sort().join(",")}`),
                ["blue-0: lb1,lb2", "blue-1: lb1,lb2"],
            );
            await assertCompiledProviders(stack);
        });

        // The flip and the destroy below run after this move too.
        it("state written before a release that moves an internal provider file still updates and deletes", async () => {
            const pkg = join(consumers["bring-your-own-servers"].dir, "node_modules", "haproxy-bluegreen");
            const rewritten = moveInstalledModule(pkg, "dist/src/haproxy/membershipProvider", "dist/src/haproxy/moved/membershipProvider");
            assert.deepEqual(rewritten.sort(), ["dist/src/haproxy/poolMembershipProvider.js", "dist/src/provider/dispatch.js"], "the dispatch map follows the move");
            assert.equal(existsSync(join(pkg, "dist", "src", "haproxy", "membershipProvider.js")), false);

            // blue-0 leaves lb2 (an update in place), blue-1 leaves (a delete), both with the state written before the move.
            await stack.setAllConfig({ loadBalancers: { value: JSON.stringify(loadBalancers.slice(0, 1)) }, servers: { value: JSON.stringify(list(["blue-0"])) } });
            const shrink = await stack.up();
            assert.equal(shrink.summary.result, "succeeded");
            assert.deepEqual([shrink.summary.resourceChanges?.update, shrink.summary.resourceChanges?.delete], [1, 1]);
            assert.deepEqual(await backendServers(lbs[0].unixAdmin), ["blue-0 UP"]);
            assert.deepEqual(await backendServers(lbs[1].unixAdmin), []);

            await stack.setAllConfig({ loadBalancers: { value: JSON.stringify(loadBalancers) }, servers: { value: JSON.stringify(list(["blue-0", "blue-1"])) } });
            const grow = await stack.up();
            assert.deepEqual([grow.summary.resourceChanges?.update, grow.summary.resourceChanges?.create], [1, 1]);
            await assertServing(["blue-0", "blue-1"]);
            await assertCompiledProviders(stack);
        });

        it("a changed server list flips under traffic with zero failed requests: the new servers UP, the old ones drained and gone", async () => {
            const traffic = new Traffic({ urls: lbs.map((lb) => lb.frontendUrl), ratePerSecond: 20, clients: 2, longRequestMs: 2000 });
            await new Promise((r) => setTimeout(r, 1000));
            await stack.setConfig("servers", { value: JSON.stringify(list(["green-0", "green-1"])) });
            const started = Date.now();
            const up = await stack.up();
            const flipMs = Date.now() - started;
            await new Promise((r) => setTimeout(r, 500));
            const result = await traffic.stop();
            assert.equal(up.summary.result, "succeeded");
            assertNoFailures(result, 40);
            await assertServing(["green-0", "green-1"]);
            assert.ok(servers["green-0"].requests + servers["green-1"].requests > 0, "the green servers answered");
            console.log(`      flip: ${seconds(flipMs)}, ${result.total} requests, 0 failed`);
        });

        it("destroy drains and removes every server it attached; the load balancers keep running", async () => {
            await stack.destroy();
            await assertServing([]);
            for (const lb of lbs) assert.equal((await httpGet(lb.frontendUrl, 5000)).status, 503, `${lb.frontendUrl} answers, with no server`);
            assert.deepEqual(await storedProviders(stack), []);
        });
    });

    for (const example of ["local-blue-green", "local-blue-green-js"]) {
        describe(`${example} (${example.endsWith("-js") ? "plain JavaScript" : "TypeScript"}): BlueGreenDeployment on localTarget`, () => {
            let stack: Stack;
            let stateDir: string;
            let backend: ScratchBackend | undefined;
            let frontends: string[] = [];

            async function assertServing(generation: string): Promise<void> {
                const lbs = (await stack.outputs()).loadBalancers.value as { name: string; endpoint: string; frontendUrl: string }[];
                assert.deepEqual(lbs.map((lb) => lb.name), ["lb1", "lb2"]);
                for (const lb of lbs) {
                    assert.deepEqual(await backendServers(lb.endpoint), [`app-${generation}-0 UP`, `app-${generation}-1 UP`], lb.name);
                    const answer = await httpGet(lb.frontendUrl, 5000);
                    assert.equal(answer.status, 200);
                    assert.equal((JSON.parse(answer.body) as { generation: string }).generation, generation);
                }
            }

            before(async () => {
                ({ stack, stateDir, backend } = await consumerStack(consumers[example], root));
                const ports = [await freePort(), await freePort()];
                frontends = ports.map((p) => `http://127.0.0.1:${p}/`);
                await stack.setAllConfig({ generation: { value: "g1" }, frontendPorts: { value: JSON.stringify(ports) } });
            });
            after(() => {
                if (stateDir) killProcessesUsing(stateDir);
                backend?.dispose();
            });

            it("up brings up g1: its servers UP on both load balancers, answering through each frontend", async () => {
                const up = await stack.up();
                assert.equal(up.summary.result, "succeeded");
                assert.equal(up.outputs.activeGeneration.value, "g1");
                await assertServing("g1");
                await assertCompiledProviders(stack);
                const resources = ((await stack.exportStack()).deployment as { resources: { type: string; urn: string; outputs?: { servers?: { server: string }[] } }[] }).resources;
                const memberships = resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/haproxy:"));
                assert.deepEqual(memberships.map((r) => [r.type, r.urn.split("::").pop()]), [["pulumi-nodejs:dynamic/haproxy:PoolMembership", "site-members-g1"]], "one membership for the generation");
                assert.deepEqual(memberships[0].outputs?.servers?.map((s) => s.server), ["app-g1-0", "app-g1-1"]);
            });

            it("flips g1 -> g2 under traffic with zero failed requests; only g2 remains", async () => {
                const flip: FlipRun = await flipUnderTraffic(stack, "g2", { traffic: { ratePerSecond: 20, clients: 2, longRequestMs: 2000 }, warmupMs: 1000 });
                assert.equal(flip.error, undefined, flip.error?.message);
                assertNoFailures(flip.traffic, 40);
                await assertServing("g2");
                console.log(`      flip: ${seconds(flip.endedAt - flip.startedAt)}, ${flip.traffic.total} requests, 0 failed`);
            });

            it("destroy stops every process it started: nothing answers, nothing runs under its state folder", async () => {
                await stack.destroy();
                for (const url of frontends) await assert.rejects(httpGet(url, 2000), /ECONNREFUSED/);
                assert.deepEqual(processesUsing(stateDir), []);
                assert.deepEqual(await storedProviders(stack), []);
            });
        });
    }
});
