/**
 * Which HAProxy the local load balancers and the tests run: `BLUEGREEN_HAPROXY_VERSION` picks one of the
 * versions scripts/setup-haproxy.sh provides (docs/HAPROXY_VERSIONS.md):
 *   2.6 (default)  `haproxy` on PATH: Debian bookworm's package
 *   3.0            $BLUEGREEN_CACHE/haproxy/3.0/haproxy, built from Debian trixie's source package
 *   3.2            $BLUEGREEN_CACHE/haproxy/3.2/haproxy, a launcher running Debian forky's HAProxy under
 *                  chroot (needs root)
 * A cached version counts only once its `ready` stamp is there (setup writes it last).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The environment variable that selects the HAProxy version. */
export const HAPROXY_VERSION_VARIABLE = "BLUEGREEN_HAPROXY_VERSION";
/** The versions the project provides. */
export const HAPROXY_VERSIONS = ["2.6", "3.0", "3.2"] as const;
export type HaproxyVersion = (typeof HAPROXY_VERSIONS)[number];
/** The version used when `BLUEGREEN_HAPROXY_VERSION` is unset or empty. */
export const DEFAULT_HAPROXY_VERSION: HaproxyVersion = "2.6";

type Environment = Record<string, string | undefined>;

/** The version `env` selects; throws naming the variable and the allowed values. */
export function selectedHaproxyVersion(env: Environment = process.env): HaproxyVersion {
    const value = env[HAPROXY_VERSION_VARIABLE];
    if (value === undefined || value === "") return DEFAULT_HAPROXY_VERSION;
    const version = HAPROXY_VERSIONS.find((v) => v === value);
    if (version === undefined) {
        throw new Error(`${HAPROXY_VERSION_VARIABLE}=${JSON.stringify(value)} is not one of ${HAPROXY_VERSIONS.join(", ")} (default ${DEFAULT_HAPROXY_VERSION})`);
    }
    return version;
}

/** The project's cache, as scripts/env.sh sets it: $BLUEGREEN_CACHE, else `${XDG_CACHE_HOME:-$HOME/.cache}/haproxy-bluegreen`. */
export function cacheDir(env: Environment = process.env): string {
    return env.BLUEGREEN_CACHE || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "haproxy-bluegreen");
}

/** How to make `version` available, for error messages. */
export function setupHint(version: HaproxyVersion): string {
    return version === DEFAULT_HAPROXY_VERSION ? "apt-get install -y haproxy" : `bash scripts/setup-haproxy.sh ${version}`;
}

/**
 * The command that runs the selected HAProxy (`haproxy`, or an absolute path into the cache). Throws if
 * the selection is invalid or a cached version is not set up, saying how to set it up.
 */
export function haproxyCommand(env: Environment = process.env): string {
    const version = selectedHaproxyVersion(env);
    if (version === DEFAULT_HAPROXY_VERSION) return "haproxy";
    const dir = join(cacheDir(env), "haproxy", version);
    if (!existsSync(join(dir, "ready"))) {
        throw new Error(`HAProxy ${version} (${HAPROXY_VERSION_VARIABLE}=${version}) is not set up in ${dir}: run \`${setupHint(version)}\``);
    }
    return join(dir, "haproxy");
}

/** The version in `haproxy -v` output, e.g. `3.2.26-1` from "HAProxy version 3.2.26-1 2026/10/14 - ...". */
export function parseHaproxyVersion(output: string): string {
    const match = /^HA-?Proxy version (\S+)/m.exec(output);
    if (match === null) throw new Error(`no "HAProxy version" line in ${JSON.stringify(output.slice(0, 80))}`);
    return match[1];
}

/**
 * Runs `<command> -v` for the selected HAProxy and returns the version it reports (e.g. `3.2.26-1`).
 * Throws with how to set it up if it cannot run, or if a cached version reports another release.
 */
export function runningHaproxyVersion(env: Environment = process.env): string {
    const selected = selectedHaproxyVersion(env);
    const command = haproxyCommand(env);
    const probe = spawnSync(command, ["-v"], { encoding: "utf8", env: env as NodeJS.ProcessEnv });
    if (probe.error || probe.status !== 0) {
        const why = probe.error?.message ?? `exit ${probe.status}: ${probe.stderr.trim()}`;
        throw new Error(`HAProxy ${selected} (\`${command} -v\`) could not be run (${why}); set it up with \`${setupHint(selected)}\``);
    }
    const version = parseHaproxyVersion(probe.stdout);
    if (selected !== DEFAULT_HAPROXY_VERSION && !version.startsWith(`${selected}.`)) {
        throw new Error(`${command} reports HAProxy ${version}, not ${selected}; set it up again with \`${setupHint(selected)}\``);
    }
    return version;
}
