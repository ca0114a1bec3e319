/**
 * PostgreSQL on this machine, for the local target: the project's own cluster (never the system's
 * service), created with `initdb` in a folder of the local target's state, started as a detached
 * process (src/targets/local/processes.ts) listening on 127.0.0.1 only, on its own port, with password
 * (SCRAM) authentication. The binaries are Debian's (`apt-get install postgresql`, under
 * `/usr/lib/postgresql/<major>/bin`), or those of `BLUEGREEN_PG_BIN`.
 *
 * PostgreSQL refuses to run as root (a server bug must not own the machine). When this process is root,
 * `initdb` and `postgres` run as the unprivileged `postgres` user the Debian package creates, through
 * `setpriv` (util-linux), which execs the program under that user: no shell, no PAM session, no extra
 * process between us and the postmaster, so the pid we keep is the postmaster's and its signals reach it
 * directly (`runuser`/`su` would stay in between, and `su` SIGKILLs its child 2 s after SIGTERM). The
 * cluster's folder is owned by that user (mode 0700, as PostgreSQL requires), and every folder above it
 * must let that user through (`x` for others); `clusterProblems` says which one does not. Clients
 * (`psql`, `pg_dump`, `pg_restore`) run as ourselves and connect over TCP.
 *
 * Passwords never go on a command line: clients get `PGPASSWORD` in their environment, `initdb` reads
 * the superuser's password from a file only the server user can read, removed right after.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chown, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { baseEnvironment, lastLines } from "./processes";

/** Where Debian installs the PostgreSQL binaries, one folder per major version. */
export const DEBIAN_PG_ROOT = "/usr/lib/postgresql";

/** The unprivileged user the server runs as when we are root (created by Debian's postgresql package). */
export const SERVER_USER = "postgres";

/** How to get PostgreSQL when it is missing; quoted by every error about it. */
export const INSTALL_HINT = "install it with `npm run setup` (Debian: `apt-get install -y postgresql`) or set BLUEGREEN_PG_BIN to a folder holding initdb, postgres, psql, pg_dump and pg_restore";

/** The programs the local target uses. */
const PROGRAMS = ["initdb", "postgres", "psql", "pg_dump", "pg_restore"] as const;
export type PgProgram = (typeof PROGRAMS)[number];

/**
 * The folder of the PostgreSQL binaries: `BLUEGREEN_PG_BIN`, else the highest major version under
 * `/usr/lib/postgresql`. Throws with how to install PostgreSQL when there is none.
 */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env, root = DEBIAN_PG_ROOT): string {
    const candidates = env.BLUEGREEN_PG_BIN
        ? [env.BLUEGREEN_PG_BIN]
        : (existsSync(root) ? readdirSync(root) : [])
              .filter((v) => /^\d+$/.test(v))
              .sort((a, b) => Number(b) - Number(a))
              .map((v) => join(root, v, "bin"));
    const found = candidates.find((dir) => PROGRAMS.every((p) => existsSync(join(dir, p))));
    if (!found) {
        const where = env.BLUEGREEN_PG_BIN ? `BLUEGREEN_PG_BIN=${env.BLUEGREEN_PG_BIN} lacks one of ${PROGRAMS.join(", ")}` : `no PostgreSQL under ${root}`;
        throw new Error(`PostgreSQL is not installed (${where}): ${INSTALL_HINT}`);
    }
    return found;
}

/** How a client reaches the database. `password` is a secret: it goes into PGPASSWORD only. */
export interface Connection {
    host: string;
    port: number;
    database: string;
    user: string;
    password: string;
}

/** The libpq environment of a client: the connection as PG* variables, on top of `baseEnvironment`. */
export function clientEnvironment(connection: Connection): Record<string, string> {
    return baseEnvironment({
        PGHOST: connection.host,
        PGPORT: String(connection.port),
        PGDATABASE: connection.database,
        PGUSER: connection.user,
        PGPASSWORD: connection.password,
        PGCONNECT_TIMEOUT: "5",
        PGAPPNAME: "haproxy-bluegreen",
    });
}

/** `argv` as the server user when we are root (see the file's comment), else as is. */
export function asServerUser(argv: string[], uid = process.getuid?.() ?? -1): string[] {
    return uid === 0 ? ["setpriv", `--reuid=${SERVER_USER}`, `--regid=${SERVER_USER}`, "--init-groups", "--", ...argv] : argv;
}

/** uid and gid of the server user when we are root; undefined otherwise (the server runs as us). */
export function serverOwner(passwd = "/etc/passwd", uid = process.getuid?.() ?? -1): { uid: number; gid: number } | undefined {
    if (uid !== 0) return undefined;
    const line = readFileSync(passwd, "utf8").split("\n").find((l) => l.startsWith(`${SERVER_USER}:`));
    if (!line) throw new Error(`PostgreSQL refuses to run as root and there is no \`${SERVER_USER}\` user to run it as: ${INSTALL_HINT}`);
    const [, , u, g] = line.split(":");
    return { uid: Number(u), gid: Number(g) };
}

/**
 * Why the server user cannot reach `dir` (a folder above it it may not enter), or undefined. Only the
 * `x` bit for others is trusted: the server user is neither the owner nor in the group of our folders.
 */
export function clusterProblems(dir: string, owner: { uid: number } | undefined): string | undefined {
    if (!owner) return undefined;
    for (let d = dirname(dir); ; d = dirname(d)) {
        if (existsSync(d)) {
            const st = statSync(d);
            if (st.uid !== owner.uid && (st.mode & 0o001) === 0) {
                return `the ${SERVER_USER} user, which runs PostgreSQL (it refuses root), cannot enter ${d} (mode ${(st.mode & 0o777).toString(8)}): \`chmod o+x ${d}\`, or set BLUEGREEN_STATE to a folder it can reach`;
            }
        }
        if (dirname(d) === d) return undefined;
    }
}

export interface RunResult {
    stdout: string;
    stderr: string;
}

/** Longest run of one PostgreSQL program, in ms. */
const RUN_TIMEOUT_MS = 600_000;

/**
 * Runs `argv` (no shell) to its end with `env`; throws with the program, its arguments, exit code and the
 * last 20 lines of stderr unless it exits 0. Arguments never hold passwords, so the message may be shown.
 */
export function run(argv: string[], env: Record<string, string>, options: { cwd?: string; input?: string } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            argv[0],
            argv.slice(1),
            { env, cwd: options.cwd ?? "/", timeout: RUN_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
            (err, stdout, stderr) => {
                if (!err) return resolve({ stdout, stderr });
                const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
                const how = typeof code === "number" ? `exited with code ${code}` : (err as { killed?: boolean }).killed ? `was killed (time limit ${RUN_TIMEOUT_MS} ms)` : err.message;
                reject(new Error(`${JSON.stringify(argv)} ${how}; last 20 lines of stderr:\n${lastLines(stderr, 20) || "(empty)"}`));
            },
        );
        if (options.input !== undefined) child.stdin?.end(options.input);
    });
}

/** Runs the client `program` of `bin` with `args`, connected as `connection`. */
export function runClient(bin: string, program: "psql" | "pg_dump" | "pg_restore", args: string[], connection: Connection): Promise<RunResult> {
    return run([join(bin, program), ...args], clientEnvironment(connection));
}

/** `psql` arguments that run `sql` and print bare, unaligned rows; stops at the first error. */
export function psqlQuery(sql: string): string[] {
    return ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql];
}

/**
 * Creates a cluster in `dataDir` (which must not exist): `initdb` as the server user, with `superuser`
 * as the bootstrap superuser whose password is `password`, SCRAM authentication for every connection
 * (no `trust`, not even locally), UTF-8, C locale.
 */
export async function initCluster(bin: string, dataDir: string, superuser: string, password: string): Promise<void> {
    const owner = serverOwner();
    const problem = clusterProblems(dataDir, owner);
    if (problem) throw new Error(problem);
    const parent = dirname(dataDir);
    await mkdir(parent, { recursive: true, mode: 0o711 });
    chmodSync(parent, 0o711);
    await mkdir(dataDir, { mode: 0o700 });
    const pwfile = join(parent, `.pwfile-${randomBytes(6).toString("hex")}`);
    try {
        await writeFile(pwfile, `${password}\n`, { mode: 0o600, flag: "wx" });
        if (owner) {
            await chown(dataDir, owner.uid, owner.gid);
            await chown(pwfile, owner.uid, owner.gid);
        }
        const argv = [join(bin, "initdb"), "-D", dataDir, "-U", superuser, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-instructions"];
        await run(asServerUser(argv), baseEnvironment());
    } finally {
        await rm(pwfile, { force: true });
    }
}

/**
 * Connections the local database accepts: during a flip both generations run, and each app server keeps
 * a connection open for its health checks, so two generations of 200 servers fit.
 */
const MAX_CONNECTIONS = 500;

/** The postmaster's argv: `dataDir`, 127.0.0.1:`port` only, no UNIX socket, logs to stderr. */
export function serverArgv(bin: string, dataDir: string, port: number): string[] {
    return asServerUser([
        join(bin, "postgres"),
        "-D", dataDir,
        "-c", "listen_addresses=127.0.0.1",
        "-c", `port=${port}`,
        "-c", "unix_socket_directories=",
        "-c", "logging_collector=off",
        "-c", `max_connections=${MAX_CONNECTIONS}`,
    ]);
}

/** Waits until `connection` answers `SELECT 1`; fails after `timeoutMs` or once `alive()` is false. */
export async function waitReady(bin: string, connection: Connection, timeoutMs: number, alive: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            await runClient(bin, "psql", psqlQuery("SELECT 1"), connection);
            return;
        } catch (err) {
            if (!alive()) throw new Error(`PostgreSQL on port ${connection.port} exited before accepting connections`);
            if (Date.now() >= deadline) throw new Error(`PostgreSQL on port ${connection.port} not ready within ${timeoutMs} ms: ${(err as Error).message}`);
            await sleep(100);
        }
    }
}
