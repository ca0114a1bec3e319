/**
 * PromQL text built from values that come from outside: every label value goes through `promqlString`
 * (and `anyOf` for a regex matcher), so no value can end a string literal or change the query's shape.
 */

const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:]*$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One label matcher: `=` (equal) or `=~` (RE2 regex, fully anchored by Prometheus). */
export interface Matcher {
    label: string;
    op: "=" | "=~";
    /** The raw value; escaped when the selector is built. For `=~`, already a pattern (see `anyOf`). */
    value: string;
}

/**
 * A PromQL double-quoted string literal holding exactly `value`: `\` and `"` escaped, control characters
 * written as `\xHH`.
 */
export function promqlString(value: string): string {
    const body = value.replace(/[\\"\u0000-\u001f\u007f]/g, (c) =>
        c === "\\" || c === '"' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    );
    return `"${body}"`;
}

/** An RE2 pattern matching exactly `value`: its metacharacters escaped (as Go's `regexp.QuoteMeta`). */
export function regexLiteral(value: string): string {
    return value.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

/** An RE2 pattern matching exactly one of `values`; throws for none (an empty pattern matches a missing label). */
export function anyOf(values: readonly string[]): string {
    if (values.length === 0) throw new Error("anyOf: at least one value is needed");
    return values.map(regexLiteral).join("|");
}

/** `name{label="value",...}`; `name` may be omitted when a `__name__` matcher selects the metrics. */
export function selector(name: string | undefined, matchers: readonly Matcher[]): string {
    if (name !== undefined && !METRIC_NAME.test(name)) throw new Error(`not a metric name: ${JSON.stringify(name)}`);
    const parts = matchers.map((m) => {
        if (!LABEL_NAME.test(m.label)) throw new Error(`not a label name: ${JSON.stringify(m.label)}`);
        return `${m.label}${m.op}${promqlString(m.value)}`;
    });
    return `${name ?? ""}{${parts.join(",")}}`;
}
