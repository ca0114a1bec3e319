/**
 * Server options: what the operator's own `server` lines say, which a server added at run time must
 * say too, because `add server` does not inherit `default-server` (HAProxy issues #1994, #2469):
 * TLS to the server, limits, slow start, the PROXY protocol, check timings, agent checks and the
 * persistence cookie.
 *
 * One typed shape with an allow-list of keywords and value shapes (`validateServerOptions`), and one
 * formatter (`serverKeywords`) used both for `add server` and for the servers file, so that the running
 * server and the one HAProxy loads after a reload are the same.
 */
import { validateHostPath } from "./runtime/hostFiles";
import {
    validateBoolean,
    isHostname,
    RuntimeInputError,
    validateCheck,
    validateInteger,
    validateKeys,
    validatePort,
    validateTimeoutMs,
    type CheckOptions,
} from "./runtime/validate";

/** Options of the servers the plugin adds; every field is optional and absent means HAProxy's default. */
export interface ServerOptions {
    /** TLS to the server (`ssl`). @default false */
    ssl?: boolean;
    /** Verification of the server's certificate with `ssl` (`verify`). @default HAProxy's (`ssl-server-verify`, required) */
    verify?: "none" | "required";
    /** CA bundle on the load balancer host that verifies the server's certificate (`ca-file`). @default none */
    caFile?: string;
    /** Host name sent as SNI and verified against the certificate (`sni str(<name>)`). @default none */
    sni?: string;
    /** ALPN protocols offered, e.g. `["h2", "http/1.1"]` (`alpn`). @default none */
    alpn?: string[];
    /** Health checks over TLS even on another port (`check-ssl`). @default false (with `ssl`, `check-ssl` is written anyway: see `serverKeywords`) */
    checkSsl?: boolean;
    /** SNI of the TLS health checks (`check-sni`). @default none */
    checkSni?: string;
    /** Most concurrent connections to the server; more wait in the queue (`maxconn`). @default none (no limit) */
    maxconn?: number;
    /** Longest queue for the server (`maxqueue`). @default none (no limit) */
    maxqueue?: number;
    /** Time over which a server that comes UP ramps up to its full weight, in ms (`slowstart`). @default none */
    slowstartMs?: number;
    /** PROXY protocol header to the server: `v1` (`send-proxy`) or `v2` (`send-proxy-v2`). @default none */
    sendProxy?: "v1" | "v2";
    /** Agent check (`agent-check agent-port <port> [agent-inter <ms>]`). @default none */
    agent?: { port: number; interMs?: number };
    /**
     * Cookie persistence: each server gets a cookie of its own, its name as `cookie <server>` on HAProxy
     * 3.0 and later; on 2.6, which refuses `cookie` on `add server`, the backend's dynamic cookie
     * (`cookie <name> insert dynamic` and `dynamic-cookie-key` in the backend). @default false
     */
    cookie?: boolean;
}

const KEYS = ["ssl", "verify", "caFile", "sni", "alpn", "checkSsl", "checkSni", "maxconn", "maxqueue", "slowstartMs", "sendProxy", "agent", "cookie"] as const;

const ALPN_PROTOCOL = /^[A-Za-z0-9][A-Za-z0-9./-]{0,31}$/;

function optionalBoolean(field: string, value: unknown): boolean | undefined {
    return value === undefined ? undefined : validateBoolean(field, value);
}

function validateHost(field: string, value: unknown): string | undefined {
    if (value !== undefined && (typeof value !== "string" || !isHostname(value))) throw new RuntimeInputError(field, value, "a DNS host name");
    return value;
}

function validateOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (value !== undefined && !allowed.includes(value as T)) throw new RuntimeInputError(field, value, `one of ${allowed.join(", ")}`);
    return value as T | undefined;
}

/** Keeps only the defined fields, so that two equal option sets compare equal as JSON. */
function defined<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Validates `ServerOptions`; throws a RuntimeInputError naming the first bad keyword. */
export function validateServerOptions(field: string, value: unknown): ServerOptions {
    const o = validateKeys(field, value ?? {}, KEYS);
    let alpn: string[] | undefined;
    if (o.alpn !== undefined) {
        if (!Array.isArray(o.alpn) || o.alpn.length === 0 || !o.alpn.every((p) => typeof p === "string" && ALPN_PROTOCOL.test(p))) {
            throw new RuntimeInputError(`${field}.alpn`, o.alpn, 'a non-empty list of protocol names such as ["h2", "http/1.1"]');
        }
        alpn = o.alpn as string[];
    }
    let agent: ServerOptions["agent"];
    if (o.agent !== undefined) {
        const a = validateKeys(`${field}.agent`, o.agent, ["port", "interMs"]);
        agent = defined({
            port: validatePort(`${field}.agent.port`, a.port),
            interMs: a.interMs === undefined ? undefined : validateTimeoutMs(`${field}.agent.interMs`, a.interMs),
        });
    }
    const options: ServerOptions = defined({
        ssl: optionalBoolean(`${field}.ssl`, o.ssl),
        verify: validateOneOf(`${field}.verify`, o.verify, ["none", "required"] as const),
        caFile: o.caFile === undefined ? undefined : validateHostPath(`${field}.caFile`, o.caFile),
        sni: validateHost(`${field}.sni`, o.sni),
        alpn,
        checkSsl: optionalBoolean(`${field}.checkSsl`, o.checkSsl),
        checkSni: validateHost(`${field}.checkSni`, o.checkSni),
        maxconn: o.maxconn === undefined ? undefined : validateInteger(`${field}.maxconn`, o.maxconn, 1, 1_000_000),
        maxqueue: o.maxqueue === undefined ? undefined : validateInteger(`${field}.maxqueue`, o.maxqueue, 1, 1_000_000),
        slowstartMs: o.slowstartMs === undefined ? undefined : validateTimeoutMs(`${field}.slowstartMs`, o.slowstartMs),
        sendProxy: validateOneOf(`${field}.sendProxy`, o.sendProxy, ["v1", "v2"] as const),
        agent,
        cookie: optionalBoolean(`${field}.cookie`, o.cookie),
    });
    const tlsOnly = (["verify", "caFile", "sni", "alpn"] as const).find((k) => options[k] !== undefined);
    if (tlsOnly && !options.ssl) throw new RuntimeInputError(`${field}.${tlsOnly}`, String(options[tlsOnly]), `${tlsOnly} only with ssl: true`);
    if (options.verify === "required" && options.caFile === undefined) {
        throw new RuntimeInputError(`${field}.caFile`, "(missing)", "the CA file that verifies the servers' certificates, with verify: required");
    }
    return options;
}

/** What one server line says after its name: address, weight, check settings and options. */
export interface ServerDefinition {
    /** `address:port` as HAProxy writes it. */
    addr: string;
    /** @default HAProxy's (1); not written when absent */
    weight?: number;
    check: CheckOptions;
    options: ServerOptions;
    /** The explicit `cookie` value, where the HAProxy version takes one for this server. @default none */
    cookie?: string;
}

/** The keywords after `server <name>` (or `add server <b>/<s>`), in HAProxy's words. Validated values only. */
export function serverKeywords(server: ServerDefinition): string[] {
    const check = validateCheck("check", server.check);
    const o = server.options;
    const words = [server.addr];
    if (server.weight !== undefined) words.push(`weight ${server.weight}`);
    if (o.maxconn !== undefined) words.push(`maxconn ${o.maxconn}`);
    if (o.maxqueue !== undefined) words.push(`maxqueue ${o.maxqueue}`);
    if (o.slowstartMs !== undefined) words.push(`slowstart ${o.slowstartMs}`);
    if (o.sendProxy !== undefined) words.push(o.sendProxy === "v2" ? "send-proxy-v2" : "send-proxy");
    if (o.ssl) {
        words.push("ssl");
        if (o.verify !== undefined) words.push(`verify ${o.verify}`);
        if (o.caFile !== undefined) words.push(`ca-file ${o.caFile}`);
        if (o.sni !== undefined) words.push(`sni str(${o.sni})`);
        if (o.alpn !== undefined) words.push(`alpn ${o.alpn.join(",")}`);
    }
    if (check.enabled) {
        words.push("check");
        for (const key of ["inter", "fastinter", "downinter", "rise", "fall"] as const) {
            if (check[key] !== undefined) words.push(`${key} ${check[key]}`);
        }
        // A server added at run time with `ssl` checks in plain text unless `check-ssl` is given (a
        // configured one gets it implicitly): seen on 2.6.12, 3.0.11 and 3.2.26, its check stays
        // "L7RSP Layer7 invalid response" (2.6) or "SOCKERR Socket error" (3.x) against a TLS server. Written
        // in the servers file too, so that the server is the same after a reload.
        if (o.checkSsl || o.ssl) words.push("check-ssl");
        if (o.checkSni !== undefined) words.push(`check-sni ${o.checkSni}`);
    }
    if (o.agent !== undefined) {
        words.push("agent-check", `agent-port ${o.agent.port}`);
        if (o.agent.interMs !== undefined) words.push(`agent-inter ${o.agent.interMs}`);
    }
    if (server.cookie !== undefined) words.push(`cookie ${server.cookie}`);
    return words;
}

/**
 * The settings of a `default-server` line that `ServerOptions` can express, for comparison; keywords
 * it cannot express are returned in `others`.
 */
export function parseDefaultServer(line: string): { options: ServerOptions; others: string[] } {
    const words = line.trim().split(/\s+/).slice(1);
    const options: ServerOptions = {};
    const others: string[] = [];
    const number = (w: string | undefined) => (w !== undefined && /^\d+$/.test(w) ? Number(w) : undefined);
    for (let i = 0; i < words.length; i++) {
        const word = words[i];
        const next = words[i + 1];
        const take = () => (i++, next);
        switch (word) {
            case "ssl": options.ssl = true; break;
            case "no-ssl": options.ssl = false; break;
            case "verify": options.verify = take() as ServerOptions["verify"]; break;
            case "ca-file": options.caFile = take(); break;
            case "sni": options.sni = /^str\((.*)\)$/.exec(take() ?? "")?.[1] ?? next; break;
            case "alpn": options.alpn = take()?.split(","); break;
            case "check-ssl": options.checkSsl = true; break;
            case "check-sni": options.checkSni = take(); break;
            case "maxconn": options.maxconn = number(take()); break;
            case "maxqueue": options.maxqueue = number(take()); break;
            case "slowstart": options.slowstartMs = parseTimeMs(take()); break;
            case "send-proxy": options.sendProxy = "v1"; break;
            case "send-proxy-v2": options.sendProxy = "v2"; break;
            default: others.push(word);
        }
    }
    return { options, others };
}

/** An HAProxy time (`500`, `500ms`, `2s`, `1m`) in ms; `undefined` if it is not one. */
function parseTimeMs(text: string | undefined): number | undefined {
    const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text ?? "");
    if (!m) return undefined;
    const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "ms"] as number;
    return Number(m[1]) * unit;
}

/** The settings of `ServerOptions` a `default-server` line can disagree with, and how each is named. */
const COMPARED = ["ssl", "verify", "caFile", "sni", "alpn", "checkSsl", "checkSni", "maxconn", "maxqueue", "slowstartMs", "sendProxy"] as const;

/**
 * Where `options` disagree with a `default-server` line's settings: one message per keyword the line
 * sets to something else (a keyword the line does not set is no disagreement).
 */
export function disagreementsWithDefaultServer(options: ServerOptions, defaults: ServerOptions): string[] {
    return COMPARED.filter((key) => defaults[key] !== undefined && JSON.stringify(defaults[key]) !== JSON.stringify(options[key] ?? (key === "ssl" || key === "checkSsl" ? false : undefined))).map(
        (key) => `${key}: default-server says ${JSON.stringify(defaults[key])}, the servers would be added with ${options[key] === undefined ? "none" : JSON.stringify(options[key])}`,
    );
}
