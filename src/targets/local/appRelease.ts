/**
 * A release of the demo app: its TypeScript sources transpiled into plain CommonJS in a folder of the
 * server that runs it. Starting `node <release>/server.js` takes about 50 ms where loading the sources
 * through ts-node takes about 430 ms, and a running server never sees later edits of `app/`.
 * Transpiling costs about 50 ms per file, so the output is remembered per source text: in one
 * `pulumi up`, a pool of servers pays for it once.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type * as TypeScript from "typescript";

/** Transpiled output by source file name and text. */
const transpiled = new Map<string, string>();

function transpile(file: string, source: string): string {
    const key = `${file}\0${source}`;
    let output = transpiled.get(key);
    if (output === undefined) {
        // Loaded only for TypeScript sources: the compiled package ships the demo app as JavaScript.
        const ts = require("typescript") as typeof TypeScript;
        output = ts.transpileModule(source, {
            fileName: file,
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        }).outputText;
        transpiled.set(key, output);
    }
    return output;
}

/** The demo app: its TypeScript sources (`app/` at the project root), or its JavaScript in the compiled package (`dist/app/`). */
export const APP_SOURCE_DIR = join(__dirname, "..", "..", "..", "app");

/** The folder holding the app's npm dependencies (`pg`): the app servers get it as NODE_PATH. */
export const APP_MODULES = dirname(dirname(require.resolve("pg/package.json")));

/** The release's entry point for the app server. */
export const SERVER_ENTRY = "server.js";

/**
 * Transpiles every `.ts` file of `sourceDir` (not its subfolders) into `<name>.js` in `outDir`, which is
 * created, or copies its `.js` files when it holds JavaScript (the compiled package). Transpile only:
 * type errors are the type-check's business (`npx tsc -p .`).
 */
export async function buildRelease(outDir: string, sourceDir = APP_SOURCE_DIR): Promise<void> {
    await mkdir(outDir, { recursive: true });
    const files = await readdir(sourceDir);
    const sources = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
    const compiled = files.filter((f) => f.endsWith(".js"));
    if (sources.length === 0 && compiled.length === 0) throw new Error(`no app sources in ${sourceDir}`);
    for (const file of sources) {
        const output = transpile(file, await readFile(join(sourceDir, file), "utf8"));
        await writeFile(join(outDir, file.replace(/\.ts$/, ".js")), output);
    }
    for (const file of compiled) await writeFile(join(outDir, file), await readFile(join(sourceDir, file)));
}
