/**
 * The help of a stack config key, read from the schema (config.ts): each key's node carries what it
 * allows and an example as `.meta({ allowed, example })`, and the config's error messages quote them.
 */
import { z } from "zod";

/** What a config key allows, and an example. */
export interface KeyHelp {
    allowed: string;
    example: string;
}

declare module "zod" {
    interface GlobalMeta {
        /** What the key allows, quoted in the config's error messages. */
        allowed?: string;
        /** An example value, quoted after `allowed`. */
        example?: string;
    }
}

/** The node a wrapper stands for (a default, an optional, a transform's input); undefined for other nodes. */
function inner(node: z.ZodType): z.ZodType | undefined {
    if (node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodOptional) return node.unwrap() as z.ZodType;
    if (node instanceof z.ZodPipe) return node.in as z.ZodType;
    return undefined;
}

/** The node of `key` under `node`: an object's field, an array's element (any index), a record's value (any key). */
function child(node: z.ZodType, key: string): z.ZodType | undefined {
    if (node instanceof z.ZodObject) return Object.hasOwn(node.shape, key) ? (node.shape[key] as z.ZodType) : undefined;
    if (node instanceof z.ZodArray) return node.element as z.ZodType;
    if (node instanceof z.ZodRecord) return node.valueType as z.ZodType;
    const wrapped = inner(node);
    return wrapped && child(wrapped, key);
}

/**
 * The help of the config key `path` (`haproxy.loadBalancers.0.name`, `pool.spec.inputs.FEATURE_X`):
 * the meta of its node, or of the first node it wraps that has one. Undefined for a key without help.
 */
export function helpAt(schema: z.ZodType, path: string): KeyHelp | undefined {
    let node: z.ZodType | undefined = schema;
    for (const key of path.split(".")) node = node && child(node, key);
    for (; node; node = inner(node)) {
        const { allowed, example } = node.meta() ?? {};
        if (allowed !== undefined && example !== undefined) return { allowed, example };
    }
    return undefined;
}
