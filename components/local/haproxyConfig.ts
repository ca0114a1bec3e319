/**
 * The HAProxy 2.6 configuration of a local load balancer: one frontend on 127.0.0.1, one backend without
 * static servers (app servers join at run time through the admin socket), health-checked over HTTP.
 *
 * Timeouts, chosen for keep-alive clients and long requests (the demo app's `/slow` takes up to 60 s):
 *   timeout connect 5s            to open a connection to a server
 *   timeout client 65s            client inactivity while a request or response is in progress
 *   timeout server 65s            a server's silence while its response is awaited: longer than 60 s
 *   timeout http-request 10s      to receive a complete request header
 *   timeout http-keep-alive 10s   an idle client connection waiting for its next request
 *   timeout queue 30s             a request waiting for a free server
 *   timeout check 2s              a health check's answer (without it, a check must finish within its
 *                                 interval, and a busy server misses a 100 ms one and goes DOWN)
 * `option http-server-close` keeps clients' connections alive but sends one request per server
 * connection, so a draining server's session count reaches zero as soon as its requests finish (no idle
 * pooled connection lingers). `retries 2` with `option redispatch` sends a request whose connection to a
 * server failed to another server.
 *
 * HAProxy 2.6 does not apply the backend's `default-server` line to servers added at run time (`add
 * server`): it documents the intended check settings, but whoever adds a server must give `inter`, `rise`
 * and `fall` with it (measured: a server added with only `check` is checked every 2 s, HAProxy's default).
 */
import { isAbsolute, join, normalize } from "node:path";
import { RuntimeInputError, quote, validateInteger, validateName } from "../haproxy/validate";

/** File name of the admin socket inside the load balancer's folder. */
export const ADMIN_SOCKET = "admin.sock";

/** Longest UNIX socket path Linux accepts (`sun_path` is 108 bytes including the final NUL). */
const MAX_SOCKET_PATH = 107;

/** How HAProxy checks every server of the backend. */
export interface HealthCheckSettings {
    /** Path of `option httpchk GET <path>`, e.g. `/health`. */
    path: string;
    /** Status of `http-check expect status`, e.g. 200. */
    expectedStatus: number;
    /** Time between two checks of a server (`inter`), in ms. */
    intervalMs: number;
    /** Consecutive passed checks that make a server UP. */
    rise: number;
    /** Consecutive failed checks that make a server DOWN. */
    fall: number;
}

export interface LocalHaproxySpec {
    /** Load balancer name; the frontend is `fe_<name>`. */
    name: string;
    /** Absolute folder that holds the admin socket. */
    dir: string;
    /** Port of the frontend on 127.0.0.1, 1024..65535. */
    frontendPort: number;
    /** Backend name. */
    backend: string;
    healthCheck: HealthCheckSettings;
}

const DIRECTORY = /^(\/[A-Za-z0-9_.@+-]+)+$/;

/** An absolute, normalized folder path (no trailing `/`) of letters, digits and `_ . @ + / -`, whose admin socket path fits. */
export function validateDirectory(field: string, value: unknown): string {
    if (typeof value !== "string" || !DIRECTORY.test(value) || !isAbsolute(value) || normalize(value) !== value) {
        throw new RuntimeInputError(field, value, "an absolute, normalized path of letters, digits, '_', '.', '@', '+', '/' or '-'");
    }
    if (join(value, ADMIN_SOCKET).length > MAX_SOCKET_PATH) {
        throw new RuntimeInputError(field, value, `a path short enough for ${ADMIN_SOCKET} inside it (${MAX_SOCKET_PATH} characters)`);
    }
    return value;
}

const CHECK_PATH = /^\/[A-Za-z0-9._~/%?=&-]{0,255}$/;

/** `HealthCheckSettings` with every field in range; throws naming the field (e.g. `healthCheck.rise`). */
export function validateHealthCheck(field: string, value: unknown): HealthCheckSettings {
    if (typeof value !== "object" || value === null) {
        throw new RuntimeInputError(field, value, "an object with path, expectedStatus, intervalMs, rise, fall");
    }
    const o = value as Record<string, unknown>;
    if (typeof o.path !== "string" || !CHECK_PATH.test(o.path)) {
        throw new RuntimeInputError(`${field}.path`, o.path, "an absolute URL path of letters, digits and . _ ~ / % ? = & -");
    }
    return {
        path: o.path,
        expectedStatus: validateInteger(`${field}.expectedStatus`, o.expectedStatus, 100, 599),
        intervalMs: validateInteger(`${field}.intervalMs`, o.intervalMs, 100, 60_000),
        rise: validateInteger(`${field}.rise`, o.rise, 1, 100),
        fall: validateInteger(`${field}.fall`, o.fall, 1, 100),
    };
}

/** A frontend port on 127.0.0.1: 1024..65535. */
export function validateFrontendPort(field: string, value: unknown): number {
    return validateInteger(field, value, 1024, 65535);
}

/** Renders the configuration; throws `RuntimeInputError` naming the first invalid field. Pure. */
export function renderHaproxyConfig(spec: LocalHaproxySpec): string {
    const name = validateName("name", spec.name);
    const dir = validateDirectory("dir", spec.dir);
    const port = validateFrontendPort("frontendPort", spec.frontendPort);
    const backend = validateName("backend", spec.backend);
    const check = validateHealthCheck("healthCheck", spec.healthCheck);
    if (`fe_${name}` === backend) throw new RuntimeInputError("backend", backend, `a name other than the frontend's (${quote(`fe_${name}`)})`);
    return [
        `# HAProxy configuration of local load balancer ${name}, written by haproxy-bluegreen (components/local/haproxyConfig.ts).`,
        "global",
        `    stats socket ${join(dir, ADMIN_SOCKET)} mode 600 level admin expose-fd listeners`,
        "    log stdout format raw local0 info",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option http-server-close",
        "    option redispatch",
        "    retries 2",
        "    timeout connect 5s",
        "    timeout client 65s",
        "    timeout server 65s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        "    timeout queue 30s",
        "    timeout check 2s",
        "",
        `frontend fe_${name}`,
        `    bind 127.0.0.1:${port}`,
        `    default_backend ${backend}`,
        "",
        `backend ${backend}`,
        "    balance roundrobin",
        `    option httpchk GET ${check.path}`,
        `    http-check expect status ${check.expectedStatus}`,
        `    default-server inter ${check.intervalMs}ms rise ${check.rise} fall ${check.fall}`,
        "",
    ].join("\n");
}
