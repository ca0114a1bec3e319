/**
 * The CommandRun provider: runs a command on this machine, given as an argument list (no shell), on create
 * and again on update when `triggers` change (other input changes are recorded without a run). A failed
 * run fails the create or update with the command, its exit code and the last 20 lines of its stderr.
 * Delete does nothing: a command that ran cannot be taken back.
 *
 * The command's environment is PATH, HOME, LANG, LC_ALL, TZ and TMPDIR of the provider host plus `env`,
 * never the rest (it holds Pulumi's credentials). `cwd` is resolved against the Pulumi program's folder.
 */
import type * as pulumi from "@pulumi/pulumi";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { baseEnvironment, lastLines } from "./processes";
import { progress } from "../../provider/providerLog";
import { changedKeys, checkFields, environment, listOf, optional, pickInputs, text } from "./inputs";

export interface CommandInputs {
    argv: string[];
    env?: Record<string, string>;
    cwd?: string;
    triggers?: string[];
}

export interface CommandOutputs extends CommandInputs {
    /** The last 4 KB of the last run's stdout. */
    stdout: string;
    exitCode: number;
}

const INPUT_KEYS = ["argv", "env", "cwd", "triggers"] as const;

/** Longest run, in ms; the command is killed after it. */
const TIMEOUT_MS = 600_000;
/** How much of stdout is kept in the outputs, in bytes. */
const STDOUT_KEPT = 4096;
/** How much of stderr is kept for an error message, in bytes. */
const STDERR_KEPT = 65_536;
/** Lines of stderr quoted when a run fails. */
const STDERR_LINES = 20;

/** Appends `chunk` to `kept`, keeping only its last `limit` characters. */
function keepTail(kept: string, chunk: string, limit: number): string {
    const joined = kept + chunk;
    return joined.length > limit ? joined.slice(joined.length - limit) : joined;
}

/** Runs the command to its end; throws with the command, exit code (or signal) and stderr tail unless it exits 0. */
export async function runCommand(inputs: CommandInputs): Promise<{ stdout: string; exitCode: number }> {
    const shown = JSON.stringify(inputs.argv);
    const child = spawn(inputs.argv[0], inputs.argv.slice(1), {
        cwd: resolve(inputs.cwd ?? "."),
        env: baseEnvironment(inputs.env),
        stdio: ["ignore", "pipe", "pipe"],
    });
    // Not spawn's own `timeout` option: its timer outlives a failed spawn and keeps the host alive.
    let timedOut = false;
    const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
    }, TIMEOUT_MS);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout = keepTail(stdout, chunk, STDOUT_KEPT)));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = keepTail(stderr, chunk, STDERR_KEPT)));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
        child.once("error", (err) => fail(new Error(`command ${shown} could not be run: ${err.message}`)));
        child.once("close", (c, s) => done([c, s]));
    }).finally(() => clearTimeout(timer));
    if (code !== 0) {
        const how = code === null ? `was killed by ${signal}${timedOut ? ` (time limit ${TIMEOUT_MS} ms)` : ""}` : `exited with code ${code}`;
        throw new Error(`command ${shown} ${how}; last ${STDERR_LINES} lines of stderr:\n${lastLines(stderr, STDERR_LINES) || "(empty)"}`);
    }
    return { stdout, exitCode: code };
}

const provider: pulumi.dynamic.ResourceProvider<CommandInputs, CommandOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, {
            argv: listOf(text(4096)),
            env: optional(environment()),
            cwd: optional(text(4096)),
            triggers: optional(listOf(text(4096), 0)),
        });
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        return { changes: changedKeys<CommandInputs>(olds, news, INPUT_KEYS).length > 0 };
    },

    async create(inputs) {
        const result = await runCommand(inputs);
        progress(`command ${JSON.stringify(inputs.argv)} succeeded`);
        return { id: randomBytes(8).toString("hex"), outs: { ...inputs, ...result } satisfies CommandOutputs };
    },

    async read(id, props) {
        return props ? { id, props, inputs: pickInputs(props, INPUT_KEYS) as CommandOutputs } : {};
    },

    async update(_id, olds, news) {
        if (changedKeys<CommandInputs>(olds, news, ["triggers"]).length === 0) {
            return { outs: { ...news, stdout: olds.stdout, exitCode: olds.exitCode } satisfies CommandOutputs };
        }
        const result = await runCommand(news);
        progress(`command ${JSON.stringify(news.argv)} succeeded (triggers changed)`);
        return { outs: { ...news, ...result } satisfies CommandOutputs };
    },

    async delete() {
        // A command that ran cannot be taken back.
    },
};

export default provider;
