/**
 * `shellQuote` / `shellCommandLine`: hostile values reach the command as single, unchanged arguments.
 * Checked with a real `sh`, which prints each argument it received, NUL-terminated.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellCommandLine, shellQuote } from "../../../src/targets/aws/shellQuote";

/** The arguments `sh`, run in `cwd`, passes to a command whose arguments are `line`. */
function argumentsSeenBySh(line: string, cwd: string): string[] {
    const out = execFileSync("sh", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8", cwd });
    return out.split("\0").slice(0, -1);
}

describe("aws target: shell quoting", function () {
    let scratch: string;
    before(function () {
        scratch = mkdtempSync(join(tmpdir(), "bluegreen-quote-"));
    });
    after(function () {
        rmSync(scratch, { recursive: true, force: true });
    });

    const hostile = [
        "a'; touch PWNED; echo '",
        "$(touch PWNED)",
        "`touch PWNED`",
        "'$(touch PWNED)'",
        "\"; touch PWNED; echo \"",
        "a && touch PWNED",
        "x | touch PWNED",
        "> PWNED",
        "*",
        "~root",
        "${HOME}",
        "\\'",
        "''",
        "",
        " spaced  out ",
        "-rf",
        "ünïcödé ✓",
    ];

    it("single-quotes every value, writing ' as '\\''", function () {
        assert.equal(shellQuote("v1.4.0"), "'v1.4.0'");
        assert.equal(shellQuote("a'; rm -rf /"), "'a'\\''; rm -rf /'");
        assert.equal(shellQuote(""), "''");
    });

    it("passes each hostile value to sh as exactly one unchanged argument, running nothing", function () {
        for (const value of hostile) {
            assert.deepEqual(argumentsSeenBySh(shellQuote(value), scratch), [value], `value ${JSON.stringify(value)}`);
        }
        assert.equal(existsSync(join(scratch, "PWNED")), false, "a quoted value ran a command");
    });

    it("turns an argument list into one command line that sh splits back into the same list", function () {
        assert.deepEqual(argumentsSeenBySh(shellCommandLine(hostile), scratch), hostile);
        assert.equal(existsSync(join(scratch, "PWNED")), false, "a quoted value ran a command");
        assert.equal(shellCommandLine(["/opt/app/bin/migrate", "--to", "0042"]), "'/opt/app/bin/migrate' '--to' '0042'");
    });

    it("refuses control characters and an empty argument list", function () {
        for (const value of ["a\nb", "a\rb", "a\u0000b", "a\u001bb", "a\u007fb"]) {
            assert.throws(() => shellQuote(value), /control characters/, JSON.stringify(value));
        }
        assert.throws(() => shellCommandLine(["ok", "line\nbreak"]), /control characters/);
        assert.throws(() => shellCommandLine([]), /empty argument list/);
    });
});
