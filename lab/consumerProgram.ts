/**
 * Programs that use this package as users get it: `npm pack` of this repository (prepack compiles dist/
 * with tsc), a copy of one of examples/ in a folder outside the repository whose package.json takes the
 * tarball, `npm install`ed (`--prefer-offline`, at the versions this repository uses), and a stack of it
 * on its own file backend, Pulumi home and local state. Shared by the package test and the benchmarks.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { PROJECT_ROOT, scratchBackend, type ScratchBackend } from "./engine";

/** The example programs. */
export const EXAMPLES = join(PROJECT_ROOT, "examples");
/** The packages a consumer installs beside the tarball, pinned to the versions this repository uses. */
const PINNED = ["@pulumi/pulumi", "typescript", "@types/node"];

export interface Command {
    stdout: string;
    stderr: string;
    ms: number;
}

/** Runs a command (no shell); fails with its output when it exits non-zero. */
export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv()): Promise<Command> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${command} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${stderr.slice(-3000)}\n${stdout.slice(-3000)}`));
            else resolve({ stdout, stderr, ms: Date.now() - started });
        });
    });
}

/** This environment without what `npm test` adds for its own script (its package, its prefix). */
export function npmEnv(): NodeJS.ProcessEnv {
    return Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !/^npm_(package|lifecycle)_/.test(k) && !["npm_config_local_prefix", "npm_command", "INIT_CWD"].includes(k)),
    );
}

export function version(pkg: string): string {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
}

export interface Packed {
    tarball: string;
    files: string[];
    size: number;
    ms: number;
}

/** `npm pack` into `dir`; the files npm lists for it. */
export async function pack(dir: string): Promise<Packed> {
    const packed = await run("npm", ["pack", "--json", "--pack-destination", dir], PROJECT_ROOT);
    const [info] = JSON.parse(packed.stdout) as { filename: string; size: number; files: { path: string }[] }[];
    return { tarball: join(dir, info.filename), files: info.files.map((f) => f.path).sort(), size: info.size, ms: packed.ms };
}

export interface Consumer {
    name: string;
    dir: string;
    typescript: boolean;
    installMs: number;
}

/** A copy of `examples/<example>` in `root` whose package.json takes the tarball; `npm install`ed. */
export async function installExample(root: string, example: string, tarball: string): Promise<Consumer> {
    const dir = join(root, example);
    cpSync(join(EXAMPLES, example), dir, {
        recursive: true,
        filter: (src) => !["node_modules", ".bluegreen"].includes(basename(src)) && !/^Pulumi\..+\.yaml$/.test(basename(src)),
    });
    const manifestPath = join(dir, "package.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, Record<string, string>>;
    assert.ok(manifest.dependencies["haproxy-bluegreen"], `${example}/package.json depends on haproxy-bluegreen`);
    manifest.dependencies["haproxy-bluegreen"] = `file:${tarball}`;
    for (const section of [manifest.dependencies, manifest.devDependencies ?? {}]) {
        for (const pkg of PINNED) if (section[pkg]) section[pkg] = version(pkg);
    }
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    const installed = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], dir);
    return { name: example, dir, typescript: existsSync(join(dir, "index.ts")), installMs: installed.ms };
}

/** A stack of `consumer` on its own file backend, Pulumi home and local state. */
export async function consumerStack(consumer: Consumer, root: string): Promise<{ stack: Stack; stateDir: string; backend: ScratchBackend }> {
    const backend = scratchBackend();
    const stateDir = join(root, `state-${consumer.name}`);
    const pulumiHome = join(root, `pulumi-home-${consumer.name}`);
    mkdirSync(pulumiHome, { recursive: true });
    const envVars = { ...backend.env, PULUMI_HOME: pulumiHome, BLUEGREEN_STATE: stateDir, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
    const stack = await LocalWorkspace.createStack({ stackName: "dev", workDir: consumer.dir }, { envVars });
    return { stack, stateDir, backend };
}

