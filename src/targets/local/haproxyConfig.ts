/**
 * The HAProxy 2.6 configuration of a local load balancer, in the shape of a production one: the backend
 * and its servers live in a servers file (`servers/<backend>.cfg`, src/haproxy/serversFile.ts)
 * that HAProxy loads at every start and reload (`-f haproxy.cfg -f servers/`); this file holds the
 * process settings, the backend's settings in a named `defaults backend-<backend>` section, an unnamed
 * `defaults` section, and one frontend on 127.0.0.1. The named section comes before the unnamed one:
 * HAProxy refuses a named `defaults` after the last unnamed one when a proxy references it ("explicitly
 * referenced by another proxy and implicitly used here").
 *
 * Like a production HAProxy it is reloaded and restarted under the plugin's feet
 * (src/targets/local/haproxyControl.ts): master-worker mode with a master socket, an admin socket that
 * hands its listening sockets over (`expose-fd listeners`), and a `server-state-file` that the reload
 * tooling saves and every defaults section loads (`load-server-state-from-file global`).
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
 * There is no `option http-server-close`: connections to servers stay alive and are reused between
 * requests (HAProxy's default, `http-reuse safe`), as in production. So a draining server may keep idle
 * pooled connections after its last request, and whoever removes it must cope with that (HAProxy 2.6
 * closes them after `pool-purge-delay`, 5 s by default). `retries 2` with `option redispatch` sends a
 * request whose connection to a server failed to another server.
 *
 * `option idle-close-on-response` (frontend side): at a reload or restart the old worker soft-stops, and
 * since HAProxy 2.4 it closes its idle client connections at once. A keep-alive client that sent its
 * next request on one just then gets "socket hang up"; clients that do not retry (Node's http Agent
 * among them) fail. With the option the old worker answers that request with `Connection: close`, as
 * HAProxy did before 2.4 (measured: keep-alive clients at 160 requests/s through 20 reloads of each kind
 * saw 0 to 5 failures each without it, none with it).
 *
 * Cookie persistence, when the stack's server options ask for cookies (`dynamicCookieKey`): `cookie SRV
 * insert indirect nocache dynamic` with a `dynamic-cookie-key`, as docs/OPERATING.md asks of a production
 * backend. 2.6 gives a server added at run time the dynamic cookie (a hash of the key and the server's
 * address, the same after a reload); 3.0 and later are given `cookie <server name>` on `add server`.
 *
 * HAProxy 2.6 does not apply the backend's `default-server` line to servers added at run time (`add
 * server`): it applies to the servers file's `server` lines, but whoever adds a server at run time must
 * give `inter`, `rise` and `fall` with it (measured: a server added with only `check` is checked every
 * 2 s, HAProxy's default).
 */
import { isAbsolute, join, normalize } from "node:path";
import { RuntimeInputError, quote, validateInteger, validateName } from "../../haproxy/runtime/validate";

/** File name of the admin socket inside the load balancer's folder. */
export const ADMIN_SOCKET = "admin.sock";
/** File name of the master CLI socket (`-S`) inside the load balancer's folder. */
export const MASTER_SOCKET = "master.sock";
/** File name of the configuration inside the load balancer's folder. */
export const CONFIG_FILE = "haproxy.cfg";
/** Folder of the servers files inside the load balancer's folder, loaded as `-f servers`. */
export const SERVERS_DIR = "servers";
/** File name of the server-state file (`show servers state` saved before a reload). */
export const SERVER_STATE_FILE = "server-state";
/**
 * What the server-state file holds before the first reload: the format version line of `show servers
 * state` and no server (HAProxy warns at start about a missing or empty file).
 */
export const EMPTY_SERVER_STATE = "1\n";

/** Longest UNIX socket path HAProxy 2.6 binds ("socket path ... too long (max 97)"). */
const MAX_SOCKET_PATH = 97;
/** The longest socket name inside the folder. */
const LONGEST_SOCKET = MASTER_SOCKET.length > ADMIN_SOCKET.length ? MASTER_SOCKET : ADMIN_SOCKET;
/** `defaults` section names are names too (63 characters at most): `backend-` leaves 55 for the backend. */
const DEFAULTS_PREFIX = "backend-";

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
    /** Absolute folder that holds the configuration, the servers folder, the sockets and the state file. */
    dir: string;
    /** Port of the frontend on 127.0.0.1, 1024..65535. */
    frontendPort: number;
    /** Backend name (55 characters at most); its section is in the servers file. */
    backend: string;
    healthCheck: HealthCheckSettings;
    /**
     * Cookie persistence with dynamic cookies, keyed by this secret (`cookie SRV insert indirect nocache
     * dynamic` and `dynamic-cookie-key <key>` in the backend's settings): HAProxy 2.6 gives servers added
     * at run time no cookie of their own (docs/OPERATING.md, sticky sessions). @default none: no persistence
     */
    dynamicCookieKey?: string;
}

/** The persistence cookie's name, when the backend has cookie persistence. */
export const PERSISTENCE_COOKIE = "SRV";

/** A dynamic cookie key: 16 to 64 letters and digits. */
export function validateDynamicCookieKey(field: string, value: unknown): string {
    if (typeof value !== "string" || !/^[A-Za-z0-9]{16,64}$/.test(value)) throw new RuntimeInputError(field, value, "16 to 64 letters and digits");
    return value;
}

const DIRECTORY = /^(\/[A-Za-z0-9_.@+-]+)+$/;

/** An absolute, normalized folder path (no trailing `/`) of letters, digits and `_ . @ + / -`, whose socket paths fit. */
export function validateDirectory(field: string, value: unknown): string {
    if (typeof value !== "string" || !DIRECTORY.test(value) || !isAbsolute(value) || normalize(value) !== value) {
        throw new RuntimeInputError(field, value, "an absolute, normalized path of letters, digits, '_', '.', '@', '+', '/' or '-'");
    }
    if (join(value, LONGEST_SOCKET).length > MAX_SOCKET_PATH) {
        throw new RuntimeInputError(field, value, `a path short enough for ${LONGEST_SOCKET} inside it (${MAX_SOCKET_PATH} characters)`);
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

/** A backend name whose named defaults section, `backend-<backend>`, is a valid name too. */
export function validateBackend(field: string, value: unknown): string {
    const backend = validateName(field, value);
    if (backend.length + DEFAULTS_PREFIX.length > 63) {
        throw new RuntimeInputError(field, value, `at most ${63 - DEFAULTS_PREFIX.length} characters (its defaults section is ${DEFAULTS_PREFIX}<backend>)`);
    }
    return backend;
}

/** The name of the `defaults` section holding the backend's settings, `backend-<backend>`. */
export function backendDefaultsName(backend: string): string {
    return `${DEFAULTS_PREFIX}${validateBackend("backend", backend)}`;
}

/** The servers file of `backend` in the load balancer's folder: `<dir>/servers/<backend>.cfg`. */
export function serversFilePath(dir: string, backend: string): string {
    return join(dir, SERVERS_DIR, `${validateBackend("backend", backend)}.cfg`);
}

/** Settings every proxy gets, in both defaults sections. */
function commonDefaults(): string[] {
    return [
        "    mode http",
        "    log global",
        "    option redispatch",
        "    retries 2",
        "    timeout connect 5s",
        "    timeout client 65s",
        "    timeout server 65s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        "    timeout queue 30s",
        "    timeout check 2s",
        "    load-server-state-from-file global",
    ];
}

/**
 * Renders `haproxy.cfg`; throws `RuntimeInputError` naming the first invalid field. Pure. The backend
 * itself is in the servers file (`renderServersFile({ backend, backendDefaults: backendDefaultsName(backend) }, ...)`).
 */
export function renderHaproxyConfig(spec: LocalHaproxySpec): string {
    const name = validateName("name", spec.name);
    const dir = validateDirectory("dir", spec.dir);
    const port = validateFrontendPort("frontendPort", spec.frontendPort);
    const backend = validateBackend("backend", spec.backend);
    const check = validateHealthCheck("healthCheck", spec.healthCheck);
    const cookieKey = spec.dynamicCookieKey === undefined ? undefined : validateDynamicCookieKey("dynamicCookieKey", spec.dynamicCookieKey);
    if (`fe_${name}` === backend) throw new RuntimeInputError("backend", backend, `a name other than the frontend's (${quote(`fe_${name}`)})`);
    return [
        `# HAProxy configuration of local load balancer ${name}, written by haproxy-bluegreen (src/targets/local/haproxyConfig.ts).`,
        `# Backend ${backend} and its servers are in ${SERVERS_DIR}/${backend}.cfg, loaded after this file.`,
        "global",
        `    stats socket ${join(dir, ADMIN_SOCKET)} mode 600 level admin expose-fd listeners`,
        `    server-state-file ${join(dir, SERVER_STATE_FILE)}`,
        "    log stdout format raw local0 info",
        "",
        `# Settings of backend ${backend}; a named defaults section must come before the last unnamed one.`,
        `defaults ${backendDefaultsName(backend)}`,
        ...commonDefaults(),
        "    balance roundrobin",
        `    option httpchk GET ${check.path}`,
        `    http-check expect status ${check.expectedStatus}`,
        `    default-server inter ${check.intervalMs}ms rise ${check.rise} fall ${check.fall}`,
        ...(cookieKey === undefined ? [] : [`    cookie ${PERSISTENCE_COOKIE} insert indirect nocache dynamic`, `    dynamic-cookie-key ${cookieKey}`]),
        "",
        "defaults",
        ...commonDefaults(),
        "    option httplog",
        "    option idle-close-on-response",
        "",
        `frontend fe_${name}`,
        `    bind 127.0.0.1:${port}`,
        `    default_backend ${backend}`,
        "",
    ].join("\n");
}
