/**
 * The user data of an aws app server, run for real by `sh` in a scratch folder: its absolute paths are
 * moved under the folder, and the system commands it calls (id, useradd, git, install, systemctl) are
 * stubs that record their arguments. The environment file it writes is read back by sourcing it in
 * `sh`, whose double-quote rules for `\\ \" \` \$` are the ones systemd applies to EnvironmentFile=.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { PROD_SPEC } from "./program";
import {
    APP_DIR,
    ENV_FILE,
    HEALTH_FILE,
    MAX_USER_DATA_BYTES,
    UNIT_FILE,
    environmentLine,
    renderUserData,
    userDataProblems,
    type UserDataArgs,
} from "../../../src/targets/aws/userData";

const STUBBED = ["id", "useradd", "git", "install", "systemctl", "curl"];

/**
 * Records its name and arguments (NUL-separated, one call a line); a `--branch` clone fails when
 * FAIL_BRANCH_CLONE is set; curl answers as the instance metadata service: a token, then INSTANCE_ID.
 */
const STUB = `#!/bin/sh
{ printf '%s\\0' "$(basename "$0")" "$@"; printf '\\n'; } >> "$STUB_LOG"
case "$(basename "$0") $*" in
  "id "*) exit 1 ;;
  "git clone --quiet --depth 1 --branch "*) [ -z "\${FAIL_BRANCH_CLONE:-}" ] ;;
  "curl "*/api/token) printf 'a-token' ;;
  "curl "*/meta-data/instance-id) printf '%s' "\${INSTANCE_ID:-}" ;;
esac
`;

interface Run {
    /** Each stubbed command call: name, then arguments. */
    calls: string[][];
    /** The scratch folder that stands for `/`. */
    root: string;
}

/** A spec like the prod stack's. */
function args(overrides: Partial<UserDataArgs["spec"]> = {}): UserDataArgs {
    return {
        spec: { ...PROD_SPEC, ...overrides },
        port: 8080,
        serverName: "app-g1-0",
        generation: "g1",
    };
}

describe("aws target: user data", function () {
    let scratch: string;
    let count = 0;

    before(function () {
        scratch = mkdtempSync(join(tmpdir(), "bluegreen-userdata-"));
        const bin = join(scratch, "bin");
        mkdirSync(bin);
        writeFileSync(join(bin, "stub"), STUB);
        chmodSync(join(bin, "stub"), 0o755);
        STUBBED.forEach((name) => symlinkSync(join(bin, "stub"), join(bin, name)));
    });
    after(function () {
        rmSync(scratch, { recursive: true, force: true });
    });

    /** Runs the script with `/` moved to a fresh folder; refuses to run if any quoted absolute path stays outside it. */
    function run(script: string, env: Record<string, string> = {}): Run {
        const root = join(scratch, `root${count++}`);
        for (const dir of [ENV_FILE, HEALTH_FILE, UNIT_FILE].map(posix.dirname)) mkdirSync(join(root, dir), { recursive: true });
        const moved = [APP_DIR, ENV_FILE, HEALTH_FILE, UNIT_FILE, posix.dirname(ENV_FILE), posix.dirname(HEALTH_FILE)].reduce(
            (text, path) => text.split(`'${path}'`).join(`'${root}${path}'`),
            script,
        );
        const outside = [...moved.matchAll(/'(\/[^']*)'/g)].map((m) => m[1]).filter((path) => !path.startsWith(root));
        assert.deepEqual(outside, [], "the script writes outside the scratch folder");
        const log = join(root, "calls.log");
        writeFileSync(log, "");
        execFileSync("sh", ["-c", moved], {
            cwd: root,
            env: { ...process.env, ...env, PATH: `${join(scratch, "bin")}:${process.env.PATH}`, STUB_LOG: log },
        });
        const calls = readFileSync(log, "utf8")
            .split("\n")
            .filter((line) => line.length > 0)
            .map((line) => line.split("\0").slice(0, -1));
        return { calls, root };
    }

    /** The variables of the environment file, as `sh` reads them. */
    function environment(root: string, names: string[]): Record<string, string> {
        const out = execFileSync("sh", ["-c", `. ./${ENV_FILE.slice(1)}; printf '%s\\0' ${names.map((n) => `"$${n}"`).join(" ")}`], {
            cwd: root,
            encoding: "utf8",
        });
        const values = out.split("\0").slice(0, -1);
        return Object.fromEntries(names.map((n, i) => [n, values[i]]));
    }

    it("clones the app at appRef with --branch, passing repository and ref as single arguments", function () {
        const { calls, root } = run(renderUserData(args()));
        const git = calls.filter(([name]) => name === "git");
        assert.deepEqual(git, [
            ["git", "clone", "--quiet", "--depth", "1", "--branch", "v1.4.0", "--", "https://git.example.com/shop/app.git", `${root}${APP_DIR}`],
        ]);
        assert.ok(calls.some(([name]) => name === "useradd"), "creates the app user when it is missing");
    });

    it("falls back to a full clone and a checkout when appRef is a commit", function () {
        const commit = "3f2c1e9b7a6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b";
        const { calls, root } = run(renderUserData(args({ appRef: commit })), { FAIL_BRANCH_CLONE: "1" });
        const app = `${root}${APP_DIR}`;
        assert.deepEqual(
            calls.filter(([name]) => name === "git"),
            [
                ["git", "clone", "--quiet", "--depth", "1", "--branch", commit, "--", "https://git.example.com/shop/app.git", app],
                ["git", "clone", "--quiet", "--", "https://git.example.com/shop/app.git", app],
                ["git", "-C", app, "checkout", "--quiet", "--detach", commit],
            ],
        );
    });

    it("writes the inputs and the target's own variables to the unit's environment file, creates the health file, then starts the unit", function () {
        const { calls, root } = run(renderUserData(args()));
        const expected = {
            DATABASE_URL_FILE: "/etc/app/database-url",
            LOG_LEVEL: "info",
            PORT: "8080",
            HOST: "0.0.0.0",
            HEALTH_FILE,
            SERVER_NAME: "app-g1-0",
            GENERATION: "g1",
            APP_REF: "v1.4.0",
        };
        assert.deepEqual(environment(root, Object.keys(expected)), expected);
        assert.equal(readFileSync(join(root, ENV_FILE), "utf8").split("\n").length, Object.keys(expected).length + 1, "one line a variable");
        const unit = readFileSync(join(root, UNIT_FILE), "utf8");
        for (const line of [`EnvironmentFile=${ENV_FILE}`, `ExecStart=${APP_DIR}/bin/start`, "User=app", "WantedBy=multi-user.target"]) {
            assert.ok(unit.split("\n").includes(line), `unit has ${line}`);
        }
        const createsHealthFile = calls.findIndex((c) => c[0] === "install" && c.at(-1) === `${root}${HEALTH_FILE}`);
        const starts = calls.findIndex((c) => c.join(" ") === "systemctl enable --now app.service");
        assert.ok(createsHealthFile >= 0, "creates the health-check file");
        assert.ok(starts > createsHealthFile, "starts the unit after the health-check file exists");
        assert.deepEqual(calls[starts - 1], ["systemctl", "daemon-reload"]);
    });

    it("an Auto Scaling group's instance reads its id from IMDSv2 for SERVER_NAME; anything but an instance id stops the script", function () {
        const arrayArgs = { ...args(), serverName: { prefix: "app-g1" } };
        const { calls, root } = run(renderUserData(arrayArgs), { INSTANCE_ID: "i-0a1b2c3d4e5f60001" });
        assert.equal(environment(root, ["SERVER_NAME"]).SERVER_NAME, "app-g1-i-0a1b2c3d4e5f60001");
        const curl = calls.filter(([name]) => name === "curl");
        assert.deepEqual(curl[0], ["curl", "-fsS", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 300", "http://169.254.169.254/latest/api/token"]);
        assert.deepEqual(curl[1], ["curl", "-fsS", "-H", "X-aws-ec2-metadata-token: a-token", "http://169.254.169.254/latest/meta-data/instance-id"]);
        for (const bad of ["", "i-", "i-0a1b$(reboot)", "not-an-id", "i-0A1B2C3D"]) {
            assert.throws(() => run(renderUserData(arrayArgs), { INSTANCE_ID: bad }), /Command failed/, `instance id ${JSON.stringify(bad)}`);
        }
    });

    it("keeps hostile input values inside the environment file, unchanged, running nothing", function () {
        const hostile = {
            QUOTE: "a'; touch PWNED; echo '",
            DOUBLE: 'a"; touch PWNED; echo "',
            SUBST: "$(touch PWNED)",
            TICKS: "`touch PWNED`",
            VAR: "${HOME}$PATH",
            SLASH: "trailing\\",
            MIXED: `\\"\\$\\\`'`,
        };
        const { calls, root } = run(renderUserData(args({ inputs: hostile })));
        assert.deepEqual(environment(root, Object.keys(hostile)), hostile);
        assert.equal(existsSync(join(root, "PWNED")), false, "an input value ran a command");
        assert.ok(calls.some((c) => c.join(" ") === "systemctl enable --now app.service"), "the script ran to the end");
    });

    it("escapes exactly \\ \" ` $ in an environment line", function () {
        assert.equal(environmentLine("A", "x\"$`\\'y"), 'A="x\\"\\$\\`\\\\\'y"');
        assert.equal(environmentLine("PLAIN", "on"), 'PLAIN="on"');
    });

    it("refuses a spec it cannot render, listing every problem", function () {
        const missing = args({ appRepository: undefined, appRef: undefined, inputs: { PORT: "1", HEALTH_FILE: "/tmp/x", SERVER_NAME: "x" } });
        assert.deepEqual(userDataProblems(missing), [
            "pool.spec.appRepository is required on the aws target",
            "pool.spec.appRef is required on the aws target",
            "pool.spec.inputs.PORT is set by the aws target and cannot be an input",
            "pool.spec.inputs.HEALTH_FILE is set by the aws target and cannot be an input",
            "pool.spec.inputs.SERVER_NAME is set by the aws target and cannot be an input",
        ]);
        assert.throws(() => renderUserData(missing), (err: Error) => err.message.includes("appRepository is required") && err.message.includes("HEALTH_FILE is set"));
        assert.deepEqual(userDataProblems(args({ appRef: "--upload-pack=x" })), [
            `pool.spec.appRef "--upload-pack=x" must not start with '-' (no git ref does)`,
        ]);
        const big = args({ inputs: { A: "x".repeat(4096), B: "x".repeat(4096), C: "x".repeat(4096), D: "x".repeat(4096) } });
        assert.match(userDataProblems(big).join("\n"), new RegExp(`user data is \\d+ bytes, EC2 allows ${MAX_USER_DATA_BYTES}`));
        assert.deepEqual(userDataProblems(args()), []);
    });
});
