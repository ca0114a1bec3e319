/**
 * Dynamic providers that stay small and stable in state.
 *
 * Pulumi serializes a dynamic provider's code into the state of every resource it manages, and a delete
 * runs the code stored then. Serializing our real implementation would put kilobytes of closures into each
 * resource and freeze old code into old state. Instead each resource stores this shim: a few lines that,
 * inside the dynamic-provider host (whose working directory is the Pulumi program's), load the
 * implementation module from the project by its path relative to the program, with ts-node.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

/**
 * A dynamic provider whose every method is `require(<modulePath>).default[method](...)`, loaded lazily in
 * the provider host. `modulePath` is absolute here (pass `__dirname`-based paths); it is stored relative to
 * the program directory so that a moved checkout still finds it.
 */
export function lazyProvider(modulePath: string): pulumi.dynamic.ResourceProvider {
    const relativePath = path.relative(process.cwd(), modulePath);
    const load = (): pulumi.dynamic.ResourceProvider => {
        const nodePath = require("path");
        const registered = Symbol.for("ts-node.register.instance");
        if (!(registered in process)) {
            require("ts-node").register({ transpileOnly: true, compilerOptions: { module: "commonjs" } });
        }
        return require(nodePath.resolve(relativePath)).default;
    };
    return {
        check: (olds, news) => load().check?.(olds, news) ?? Promise.resolve({ inputs: news }),
        diff: (id, olds, news) => load().diff?.(id, olds, news) ?? Promise.resolve({}),
        create: (inputs) => load().create(inputs),
        read: (id, props) => load().read?.(id, props) ?? Promise.resolve({ id, props }),
        update: (id, olds, news) => load().update?.(id, olds, news) ?? Promise.resolve({ outs: news }),
        delete: (id, props) => load().delete?.(id, props) ?? Promise.resolve(),
    };
}

/** `T` with every field a `pulumi.Input`: the shape dynamic resources accept for nested plain objects. */
export type InputFields<T> = { [K in keyof T]: pulumi.Input<T[K]> };
