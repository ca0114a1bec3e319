/**
 * Quoting for POSIX sh, so that values from the stack config reach a command as single arguments and
 * never as shell syntax (`;`, `$(...)`, backticks, globs, quotes). Pure: exported for tests.
 */

/**
 * One argument for sh: always single-quoted, each `'` written as `'\''` (inside single quotes nothing
 * is special). Control characters (newline, NUL, ...) are refused: not every login shell keeps them
 * literal, and the stack config never allows them.
 */
export function shellQuote(value: string): string {
    if (/[\u0000-\u001f\u007f]/.test(value)) {
        throw new Error(`cannot pass a value with control characters to a shell: ${JSON.stringify(value)}`);
    }
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** An argument list (program first) as one sh command line, every argument quoted by `shellQuote`. */
export function shellCommandLine(argv: readonly string[]): string {
    if (argv.length === 0) throw new Error("cannot build a command line from an empty argument list");
    return argv.map(shellQuote).join(" ");
}
