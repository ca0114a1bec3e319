/**
 * Checking and diffing the inputs of the local target's dynamic resources. Rules are validators that
 * throw `RuntimeInputError` naming the field; `checkFields` turns those into `check` failures. Values
 * still unknown during preview are skipped here and compared as changed by `changedKeys`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isAbsolute, normalize } from "node:path";
import { containsUnknown } from "../../provider/previewValues";
import { RuntimeInputError } from "../../haproxy/runtime/validate";

/** Validates `value` for `field`; throws `RuntimeInputError` naming the (possibly nested) field. */
export type FieldRule = (field: string, value: unknown) => unknown;

/** Runs each rule on its known input; returns one failure per invalid field, in rule order. */
export function checkFields<T extends object>(news: T, rules: { [K in keyof T]?: FieldRule }): pulumi.dynamic.CheckFailure[] {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    for (const [key, rule] of Object.entries(rules) as [keyof T & string, FieldRule][]) {
        const value: unknown = news[key];
        if (containsUnknown(value)) continue;
        try {
            rule(key, value);
        } catch (err) {
            if (!(err instanceof RuntimeInputError)) throw err;
            failures.push({ property: err.field, reason: err.message });
        }
    }
    return failures;
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
    return JSON.stringify(value, (_key, v: unknown) =>
        v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
    );
}

/** The `keys` whose values differ between the stored `olds` and the `news`; unknown new values differ. */
export function changedKeys<T extends object>(olds: T, news: T, keys: readonly (keyof T & string)[]): string[] {
    return keys.filter((k) => containsUnknown(news[k]) || canonical(olds[k]) !== canonical(news[k]));
}

/** The input fields of stored outputs, for `read` to return as `inputs`. */
export function pickInputs<T extends object, K extends keyof T & string>(props: T, keys: readonly K[]): Pick<T, K> {
    return Object.fromEntries(Object.entries(props).filter(([k]) => (keys as readonly string[]).includes(k))) as Pick<T, K>;
}

/** Wraps `rule` so that `undefined` passes. */
export function optional(rule: FieldRule): FieldRule {
    return (field, value) => (value === undefined ? value : rule(field, value));
}

/** A string of 1..`max` characters without control characters. */
export function text(max: number): FieldRule {
    return (field, value) => {
        if (typeof value !== "string" || value.length < 1 || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
            throw new RuntimeInputError(field, value, `a string of 1 to ${max} characters without control characters`);
        }
        return value;
    };
}

/** A string matching `pattern`, described as `allowed` in the error. */
export function matching(pattern: RegExp, allowed: string): FieldRule {
    return (field, value) => {
        if (typeof value !== "string" || !pattern.test(value)) throw new RuntimeInputError(field, value, allowed);
        return value;
    };
}

/** An absolute, normalized path without NUL or trailing `/`, other than `/` itself. */
export const absolutePath: FieldRule = (field, value) => {
    if (typeof value !== "string" || !isAbsolute(value) || normalize(value) !== value || value.includes("\0") || /.\/$/.test(value)) {
        throw new RuntimeInputError(field, value, "an absolute, normalized path");
    }
    return value;
};

/** A non-empty list (or any list when `minLength` is 0) whose items pass `item`. */
export function listOf(item: FieldRule, minLength = 1): FieldRule {
    return (field, value) => {
        if (!Array.isArray(value) || value.length < minLength) {
            throw new RuntimeInputError(field, value, minLength > 0 ? `a list of at least ${minLength} item(s)` : "a list");
        }
        value.forEach((v, i) => item(`${field}[${i}]`, v));
        return value;
    };
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A map of environment variable names to strings without NUL; names in `reserved` are refused. */
export function environment(reserved: readonly string[] = []): FieldRule {
    return (field, value) => {
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            throw new RuntimeInputError(field, value, "a map of environment variable names to strings");
        }
        for (const [name, v] of Object.entries(value)) {
            if (!VARIABLE.test(name)) throw new RuntimeInputError(`${field}.${name}`, name, "a name of letters, digits and '_', not starting with a digit");
            if (reserved.includes(name)) throw new RuntimeInputError(`${field}.${name}`, name, `a name other than ${reserved.join(", ")} (set by the resource)`);
            if (typeof v !== "string" || v.includes("\0")) throw new RuntimeInputError(`${field}.${name}`, v, "a string without NUL");
        }
        return value;
    };
}
