/**
 * The demo app server (Node http, PostgreSQL through `pg`). Settings come from the environment:
 *
 *   PORT             port to listen on (required)
 *   HOST             address to listen on, default 127.0.0.1
 *   SERVER_NAME, GENERATION, APP_REF   reported by every answer
 *   PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD   the database (libpq's variables, read by `pg`)
 *   HEALTH_FILE      health needs this file to exist (runbook step 12: removing it fails the check)
 *   REQUIRED_SCHEMA  optional: a migration version (e.g. `0002`) that health needs recorded in
 *                    `schema_migrations`: a generation that needs a migration is healthy only after it
 *   APP_FAIL_HEALTH  `1` makes health always fail (tests use it for a broken generation)
 *   APP_FAIL_FRACTION  0 to 1: that fraction of the answers to `/`, `/slow` and `/items` are 500s, spread
 *                    evenly (every 5th one for 0.2); health is not affected. Default 0. The demo and the
 *                    tests use it for a bad release that a rollout's analysis rolls back.
 *
 * Routes: `GET /` answers `{server, generation, appRef}`; `GET /slow?ms=N` (0..60000) answers the same
 * after N ms; `GET /items` answers the first 10 items; `GET /health` answers 200 once a query proves the
 * database answers and holds the schema this server needs (runbook steps 7, 9), or 503 with the reason.
 * Keep-alive is on (10 s idle). On SIGTERM or SIGINT the server stops accepting, lets requests in flight
 * finish (30 s at most), closes its database connections and exits 0. One log line per request on stdout.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { access } from "node:fs/promises";
import { Pool } from "pg";

/** Longest `/slow` delay, in ms. */
const MAX_SLOW_MS = 60_000;
/** Longest wait for requests in flight after SIGTERM, in ms. */
const SHUTDOWN_GRACE_MS = 30_000;
/** Idle time after which a keep-alive connection is closed, in ms. */
const KEEP_ALIVE_MS = 10_000;

const env = process.env;
const failFraction = Number(env.APP_FAIL_FRACTION ?? "0");
if (!(failFraction >= 0 && failFraction <= 1)) {
    console.error(`APP_FAIL_FRACTION must be a number from 0 to 1, got ${JSON.stringify(env.APP_FAIL_FRACTION)}`);
    process.exit(1);
}
let answered = 0;
/** Whether this answer is one of the `APP_FAIL_FRACTION` that fail: the n-th fails when n × fraction passes a whole number. */
function failsThisOne(): boolean {
    answered += 1;
    return Math.floor(answered * failFraction) > Math.floor((answered - 1) * failFraction);
}
const identity = JSON.stringify({ server: env.SERVER_NAME ?? "", generation: env.GENERATION ?? "", appRef: env.APP_REF ?? "" });
let stopping = false;

/** A few connections are plenty: only health and `/items` query. Errors of idle clients are logged, not fatal. */
const pool = new Pool({ max: 4, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000, statement_timeout: 2000, query_timeout: 3000 });
pool.on("error", (err) => process.stdout.write(`${new Date().toISOString()} idle database connection failed: ${err.message}\n`));

/** Why the server is unhealthy, or undefined when it is healthy. */
async function unhealthyReason(): Promise<string | undefined> {
    if (env.APP_FAIL_HEALTH === "1") return "APP_FAIL_HEALTH=1";
    if (!env.HEALTH_FILE) return "HEALTH_FILE is not set";
    try {
        await access(env.HEALTH_FILE);
    } catch {
        return `health-check file ${env.HEALTH_FILE} is missing`;
    }
    const required = env.REQUIRED_SCHEMA;
    try {
        if (!required) {
            await pool.query("SELECT 1");
            return undefined;
        }
        const { rowCount } = await pool.query("SELECT 1 FROM schema_migrations WHERE version = $1", [required]);
        return rowCount === 1 ? undefined : `database lacks schema version ${required}`;
    } catch (err) {
        return `database unavailable: ${(err as Error).message}`;
    }
}

function send(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { "content-type": "application/json", ...(stopping ? { connection: "close" } : {}) });
    res.end(`${body}\n`);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://app");
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, JSON.stringify({ error: "only GET" }));
    if (url.pathname !== "/health" && failsThisOne()) return send(res, 500, JSON.stringify({ error: "APP_FAIL_FRACTION" }));
    if (url.pathname === "/") return send(res, 200, identity);
    if (url.pathname === "/health") {
        const reason = await unhealthyReason();
        return reason === undefined ? send(res, 200, identity) : send(res, 503, JSON.stringify({ status: "unhealthy", reason }));
    }
    if (url.pathname === "/items") {
        const { rows } = await pool.query("SELECT * FROM items ORDER BY id LIMIT 10");
        return send(res, 200, JSON.stringify({ items: rows }));
    }
    if (url.pathname === "/slow") {
        const ms = Number(url.searchParams.get("ms") ?? "0");
        if (!Number.isInteger(ms) || ms < 0 || ms > MAX_SLOW_MS) {
            return send(res, 400, JSON.stringify({ error: `ms must be a whole number from 0 to ${MAX_SLOW_MS}` }));
        }
        await new Promise((resolve) => setTimeout(resolve, ms));
        return send(res, 200, identity);
    }
    send(res, 404, JSON.stringify({ error: `no route ${url.pathname}` }));
}

const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) => {
    const started = Date.now();
    res.on("finish", () =>
        process.stdout.write(`${new Date().toISOString()} ${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms\n`),
    );
    handle(req, res).catch((err: Error) => send(res, 500, JSON.stringify({ error: err.message })));
});

function shutdown(signal: string): void {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${new Date().toISOString()} ${signal}: no new connections, finishing requests in flight\n`);
    server.close(() => void pool.end().finally(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => {
        process.stdout.write(`${new Date().toISOString()} requests still in flight after ${SHUTDOWN_GRACE_MS} ms: closing them\n`);
        server.closeAllConnections();
        process.exit(0);
    }, SHUTDOWN_GRACE_MS).unref();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

const port = Number(env.PORT);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`PORT must be a port number from 1 to 65535, got ${JSON.stringify(env.PORT)}`);
    process.exit(1);
}
server.listen(port, env.HOST ?? "127.0.0.1", () =>
    process.stdout.write(`${new Date().toISOString()} ${env.SERVER_NAME} (${env.GENERATION}, ${env.APP_REF}) listening on ${env.HOST ?? "127.0.0.1"}:${port}\n`),
);
