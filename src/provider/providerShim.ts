/**
 * Dynamic resources whose provider is a module of this package.
 *
 * A dynamic resource stores its provider's code in state (`__provider`), and the dynamic-provider host
 * runs that code: `require`s it as a module and calls its `handler()` to get the provider. Pulumi's own
 * `dynamic.Resource` serializes a closure there, kilobytes per resource, and slow to build. Here the
 * stored code is one line that asks the package's provider entry point (dispatch.ts) for the provider of
 * the resource's kind; the host supplies defaults for methods it does not define. State stays small,
 * previews skip closure serialization, and old state runs today's code, wherever its files now are.
 *
 * Two ways to find the entry point, decided by how this file itself runs:
 * - compiled (the installed package, `dist/`): by its exported name, `haproxy-bluegreen/provider`,
 *   resolved from the program directory (the host's working directory): plain JavaScript, no ts-node,
 *   wherever the program lives;
 * - from TypeScript sources (this repository's own program and tests): by its path relative to the
 *   program directory, loaded through ts-node.
 */
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { ProviderKind } from "./dispatch";

/** The provider entry point (dispatch.ts), absolute, without extension. */
const DISPATCH_MODULE = path.join(__dirname, "dispatch");
/** The package's export of the entry point (package.json `exports`). */
const DISPATCH_EXPORT = "provider";

/** The name in the package.json of the package that contains `file`. */
function packageNameOf(file: string): string {
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, "utf8")) as { name: string }).name;
        if (path.dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
    }
}

/**
 * The `__provider` module text of a resource of `kind`, served by the entry point `dispatchModule`
 * (absolute, without extension). Compiled (`<dispatchModule>.js` exists): found as
 * `<package name>/provider`. Sources: stored relative to the program directory `programDir`, which must
 * contain it. Exported for tests. @default dispatchModule dispatch.ts beside this file
 */
export function providerModuleText(kind: ProviderKind, dispatchModule = DISPATCH_MODULE, programDir = process.cwd()): string {
    const call = `.provider(${JSON.stringify(kind)})`;
    if (existsSync(`${dispatchModule}.js`)) {
        const specifier = `${packageNameOf(dispatchModule)}/${DISPATCH_EXPORT}`;
        return `exports.handler=()=>require(require.resolve(${JSON.stringify(specifier)},{paths:[process.cwd()]}))${call}`;
    }
    const relative = path.relative(programDir, dispatchModule).split(path.sep).join("/");
    if (relative.startsWith("..") || path.isAbsolute(relative)) {
        throw new Error(`provider module ${dispatchModule} is outside the program directory ${programDir}: use the compiled package (npm run build)`);
    }
    // Kept short: it is stored twice (inputs and outputs) in every resource's state. ts-node takes its
    // compiler options from the program's tsconfig.json.
    return (
        'exports.handler=()=>{Symbol.for("ts-node.register.instance")in process||require("ts-node").register({transpileOnly:true});' +
        `return require(require("path").resolve(${JSON.stringify(relative)}))${call}}`
    );
}

/**
 * A dynamic resource (type `pulumi-nodejs:dynamic/<module>:<type>`) served by the provider of `kind`
 * (dispatch.ts). The inputs named in `secrets` (credentials) are Pulumi secrets, in the inputs and in the
 * outputs. @default secrets none
 */
export class ProjectDynamicResource extends pulumi.CustomResource {
    constructor(
        kind: ProviderKind,
        module: string,
        type: string,
        name: string,
        props: pulumi.Inputs,
        opts?: pulumi.CustomResourceOptions,
        secrets: readonly string[] = [],
    ) {
        if ("__provider" in props) throw new Error("a dynamic resource must not define the __provider key");
        const secretProps = Object.fromEntries(secrets.filter((key) => props[key] !== undefined).map((key) => [key, pulumi.secret(props[key])]));
        super(
            `pulumi-nodejs:dynamic/${module}:${type}`,
            name,
            { ...props, ...secretProps, __provider: providerModuleText(kind) },
            secrets.length > 0 ? { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secrets] } : opts,
        );
    }
}

/** `T` with every field a `pulumi.Input`: the shape dynamic resources accept for nested plain objects. */
export type InputFields<T> = { [K in keyof T]: pulumi.Input<T[K]> };
