/**
 * The EC2 user data of an app server (runbook steps 3, 4 and 6): a POSIX sh script, run once by
 * cloud-init at first boot, that
 * - fetches the app at `spec.appRef` from `spec.appRepository` into APP_DIR (`git clone --branch` for a
 *   branch or tag, a full clone and `git checkout` for a commit),
 * - writes `spec.inputs` and the target's own variables (PORT, HOST=0.0.0.0, HEALTH_FILE, SERVER_NAME,
 *   GENERATION, APP_REF: the settings of the demo app in app/) to the environment file of the `app`
 *   systemd unit; an Auto Scaling group's instance reads its id from the instance metadata (IMDSv2,
 *   with curl) for its SERVER_NAME,
 * - creates the health-check file (runbook step 12 drains a server by removing it),
 * - starts the unit, which runs `bin/start` of the app as the user `app`.
 * The image must provide git, systemd and useradd; the app must listen on $HOST:$PORT and answer its
 * health check only while $HEALTH_FILE exists. Every value enters the script through `shellQuote`.
 * Pure: exported for tests.
 */
import { posix } from "node:path";
import type { ServerSpec } from "../../plan";
import { shellQuote } from "./shellQuote";

/** Where the app is checked out. */
export const APP_DIR = "/opt/app";
/** The environment file of the unit. */
export const ENV_FILE = "/etc/app/app.env";
/** The health-check file; the app fails its health check when it is missing. */
export const HEALTH_FILE = "/var/lib/app/health-check";
/** The systemd unit that runs the app. */
export const UNIT_FILE = "/etc/systemd/system/app.service";
/** EC2 refuses user data larger than this, in bytes. */
export const MAX_USER_DATA_BYTES = 16384;

export interface UserDataArgs {
    /** The generation's spec; `appRepository` and `appRef` are required, `inputs` @default {} */
    spec: ServerSpec;
    /** The port the app listens on (`pool.port`), given to it as PORT. */
    port: number;
    /**
     * The HAProxy server name, given to the app as SERVER_NAME; for an Auto Scaling group's instance
     * `{ prefix }`: SERVER_NAME is `<prefix>-<instance id>` (names.ts `arrayServerName`), known at boot.
     */
    serverName: string | { prefix: string };
    /** Given to the app as GENERATION. */
    generation: string;
}

const UNIT = `[Unit]
Description=Application server
Wants=network-online.target
After=network-online.target

[Service]
User=app
EnvironmentFile=${ENV_FILE}
WorkingDirectory=${APP_DIR}
ExecStart=${APP_DIR}/bin/start
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;

/** Everything that prevents the user data of `args`, each problem naming its config key. */
export function userDataProblems(args: UserDataArgs): string[] {
    const { appRepository, appRef, inputs = {} } = args.spec;
    const problems: string[] = [];
    if (!appRepository) problems.push("pool.spec.appRepository is required on the aws target");
    if (!appRef) problems.push("pool.spec.appRef is required on the aws target");
    if (appRef?.startsWith("-")) problems.push(`pool.spec.appRef "${appRef}" must not start with '-' (no git ref does)`);
    for (const reserved of Object.keys(ownVariables(args)).filter((name) => name in inputs)) {
        problems.push(`pool.spec.inputs.${reserved} is set by the aws target and cannot be an input`);
    }
    if (problems.length === 0 && appRepository && appRef) {
        const bytes = Buffer.byteLength(render(appRepository, appRef, environment(args), args.serverName));
        if (bytes > MAX_USER_DATA_BYTES) {
            problems.push(`the user data is ${bytes} bytes, EC2 allows ${MAX_USER_DATA_BYTES}: shorten pool.spec.inputs`);
        }
    }
    return problems;
}

/** The user data script; throws one error listing every problem of `userDataProblems`. */
export function renderUserData(args: UserDataArgs): string {
    const { appRepository, appRef } = args.spec;
    const problems = userDataProblems(args);
    if (problems.length > 0 || !appRepository || !appRef) {
        throw new Error(`cannot render the user data of an app server:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    return render(appRepository, appRef, environment(args), args.serverName);
}

/** The variables the target sets itself; they cannot be inputs. */
function ownVariables(args: UserDataArgs): Record<string, string> {
    return {
        PORT: String(args.port),
        HOST: "0.0.0.0",
        HEALTH_FILE,
        SERVER_NAME: typeof args.serverName === "string" ? args.serverName : `${args.serverName.prefix}-i-0123456789abcdef0`,
        GENERATION: args.generation,
        APP_REF: args.spec.appRef ?? "",
    };
}

/** The inputs, then the target's own variables known before boot (an instance's SERVER_NAME is not). */
function environment(args: UserDataArgs): Record<string, string> {
    const { SERVER_NAME, ...known } = ownVariables(args);
    return { ...args.spec.inputs, ...known, ...(typeof args.serverName === "string" ? { SERVER_NAME } : {}) };
}

/**
 * One `NAME="value"` line of a systemd environment file: inside double quotes systemd unescapes `\\`,
 * `\"`, `` \` `` and `\$`, and keeps everything else literally.
 */
export function environmentLine(name: string, value: string): string {
    return `${name}="${value.replace(/[\\"`$]/g, "\\$&")}"`;
}

/** The lines that append an instance's SERVER_NAME, `<prefix>-<instance id>`, read from IMDSv2. */
function instanceServerName(prefix: string): string[] {
    const imds = "http://169.254.169.254/latest";
    return [
        `token="$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' ${imds}/api/token)"`,
        `instance_id="$(curl -fsS -H "X-aws-ec2-metadata-token: $token" ${imds}/meta-data/instance-id)"`,
        // An instance id is `i-` and hex digits: nothing systemd or the shell would read specially.
        `case "$instance_id" in i-*[!0-9a-f]*|i-) exit 1 ;; i-*) ;; *) exit 1 ;; esac`,
        `printf 'SERVER_NAME="%s-%s"\\n' ${shellQuote(prefix)} "$instance_id" >> ${shellQuote(ENV_FILE)}`,
    ];
}

/** The script, every value in it single-quoted. */
function render(repository: string, ref: string, environment: Record<string, string>, serverName: UserDataArgs["serverName"]): string {
    const [repo, rev, app] = [repository, ref, APP_DIR].map(shellQuote);
    const lines = Object.entries(environment).map(([name, value]) => shellQuote(environmentLine(name, value)));
    return [
        "#!/bin/sh",
        "set -eu",
        `id -u app >/dev/null 2>&1 || useradd --system --home-dir ${app} --shell /usr/sbin/nologin app`,
        `rm -rf ${app}`,
        `if ! git clone --quiet --depth 1 --branch ${rev} -- ${repo} ${app}; then`,
        `  rm -rf ${app}`,
        `  git clone --quiet -- ${repo} ${app}`,
        `  git -C ${app} checkout --quiet --detach ${rev}`,
        "fi",
        `install -d -m 0755 ${shellQuote(posix.dirname(ENV_FILE))} ${shellQuote(posix.dirname(HEALTH_FILE))}`,
        `install -m 0640 -g app /dev/null ${shellQuote(ENV_FILE)}`,
        `printf '%s\\n' ${lines.join(" ")} > ${shellQuote(ENV_FILE)}`,
        ...(typeof serverName === "string" ? [] : instanceServerName(serverName.prefix)),
        `install -m 0644 /dev/null ${shellQuote(HEALTH_FILE)}`,
        `cat > ${shellQuote(UNIT_FILE)} <<'UNIT'`,
        UNIT + "UNIT",
        "systemctl daemon-reload",
        "systemctl enable --now app.service",
        "",
    ].join("\n");
}
