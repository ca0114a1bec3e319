/**
 * Dynamic resources whose provider is a module of this package.
 *
 * A dynamic resource stores its provider's code in state (`__provider`), and the dynamic-provider host
 * runs that code: `require`s it as a module and calls its `handler()` to get the provider. Pulumi's own
 * `dynamic.Resource` serializes a closure there, kilobytes per resource, and slow to build. Here the
 * stored code is a few lines that load the provider module, whose default export is the
 * `pulumi.dynamic.ResourceProvider`; the host supplies defaults for methods it does not define. State
 * stays small, previews skip closure serialization, and old state runs today's code.
 *
 * Two ways to find the module, decided by how this file itself runs:
 * - compiled (the installed package, `dist/`): by package name, `haproxy-bluegreen/dist/...`, resolved
 *   from the program directory (the host's working directory): plain JavaScript, no ts-node, wherever
 *   the program lives;
 * - from TypeScript sources (this repository's own program and tests): by its path relative to the
 *   program directory, loaded through ts-node.
 */
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

/** The folder holding the package.json of the package that contains `file`, and that package's name. */
function packageOf(file: string): { root: string; name: string } {
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (existsSync(manifest)) return { root: dir, name: (JSON.parse(readFileSync(manifest, "utf8")) as { name: string }).name };
        if (path.dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
    }
}

/**
 * The `__provider` module text for the provider module at `modulePath` (absolute, without extension).
 * Compiled (`<modulePath>.js` exists): found by package name. Sources: stored relative to the program
 * directory `programDir`, which must contain it. Exported for tests.
 */
export function providerModuleText(modulePath: string, programDir = process.cwd()): string {
    if (existsSync(`${modulePath}.js`)) {
        const pkg = packageOf(modulePath);
        const specifier = [pkg.name, ...path.relative(pkg.root, modulePath).split(path.sep)].join("/");
        return `exports.handler=()=>require(require.resolve(${JSON.stringify(specifier)},{paths:[process.cwd()]})).default`;
    }
    const relative = path.relative(programDir, modulePath).split(path.sep).join("/");
    if (relative.startsWith("..") || path.isAbsolute(relative)) {
        throw new Error(`provider module ${modulePath} is outside the program directory ${programDir}: use the compiled package (npm run build)`);
    }
    // Kept short: it is stored twice (inputs and outputs) in every resource's state. ts-node takes its
    // compiler options from the program's tsconfig.json.
    return (
        'exports.handler=()=>{Symbol.for("ts-node.register.instance")in process||require("ts-node").register({transpileOnly:true});' +
        `return require(require("path").resolve(${JSON.stringify(relative)})).default}`
    );
}

/**
 * A dynamic resource (type `pulumi-nodejs:dynamic/<module>:<type>`) served by the provider module at
 * `providerModule`, an absolute path such as `path.join(__dirname, "membershipProvider")`. The inputs
 * named in `secrets` (credentials) are Pulumi secrets, in the inputs and in the outputs. @default secrets none
 */
export class ProjectDynamicResource extends pulumi.CustomResource {
    constructor(
        providerModule: string,
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
            { ...props, ...secretProps, __provider: providerModuleText(providerModule) },
            secrets.length > 0 ? { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secrets] } : opts,
        );
    }
}

/** `T` with every field a `pulumi.Input`: the shape dynamic resources accept for nested plain objects. */
export type InputFields<T> = { [K in keyof T]: pulumi.Input<T[K]> };
