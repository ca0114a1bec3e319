/**
 * Pure validators for every value that ends up in an HAProxy Runtime API command.
 *
 * Each validator either returns the value unchanged (narrowed to its type) or throws a
 * `RuntimeInputError` naming the field, the offending value and what is allowed. The accepted
 * character sets never include `;` (command separator), `#`, `\` (escape), spaces or control
 * characters, so a validated value cannot change the shape of the command it is formatted into.
 */
import { isIPv4, isIPv6 } from "node:net";

/** Longest value excerpt quoted in an error message. */
const MAX_QUOTED = 40;

/** A value that may not be sent to HAProxy; `field` names the input it came from. */
export class RuntimeInputError extends Error {
    constructor(
        public readonly field: string,
        value: unknown,
        allowed: string,
    ) {
        super(`${field}: ${quote(value)} is not allowed; expected ${allowed}`);
        this.name = "RuntimeInputError";
    }
}

/** JSON-quotes a value for an error message, truncated to `MAX_QUOTED` characters. */
export function quote(value: unknown): string {
    const text = typeof value === "string" ? value : String(value);
    const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
    return typeof value === "string" ? JSON.stringify(cut) : cut;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;

/** A backend or server name: 1..63 of letters, digits, `-`, `_`, `.`, `:`, starting with a letter or digit. */
export function validateName(field: string, value: unknown): string {
    if (typeof value !== "string" || !NAME.test(value)) {
        throw new RuntimeInputError(
            field,
            value,
            "1 to 63 letters, digits, '-', '_', '.' or ':', starting with a letter or digit",
        );
    }
    return value;
}

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * True for an RFC 1123 host name: dot-separated labels of letters, digits and inner `-`, at most
 * 253 characters, the last label not all digits (so a malformed IPv4 address is not a host name).
 */
export function isHostname(value: string): boolean {
    const labels = value.split(".");
    return value.length <= 253 && labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]);
}

/** True for an IPv6 address without zone index (`%eth0`) or brackets. */
function isPlainIPv6(value: string): boolean {
    return /^[0-9A-Fa-f:.]+$/.test(value) && isIPv6(value);
}

/**
 * An IPv4 address, an IPv6 address (without brackets) or a DNS host name.
 * Note: HAProxy resolves a host name given at run time only if the backend has a `resolvers` section.
 */
export function validateAddress(field: string, value: unknown): string {
    if (typeof value !== "string" || !(isIPv4(value) || isPlainIPv6(value) || isHostname(value))) {
        throw new RuntimeInputError(field, value, "an IPv4 address, an IPv6 address without brackets or a DNS host name");
    }
    return value;
}

/** An integer in `min..max` (inclusive). */
/** `true` or `false`. */
export function validateBoolean(field: string, value: unknown): boolean {
    if (typeof value !== "boolean") throw new RuntimeInputError(field, value, "true or false");
    return value;
}

export function validateInteger(field: string, value: unknown, min: number, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        throw new RuntimeInputError(field, value, `an integer from ${min} to ${max}`);
    }
    return value;
}

/** A TCP port, 1..65535. */
export function validatePort(field: string, value: unknown): number {
    return validateInteger(field, value, 1, 65535);
}

/** A server weight, 0..256 (HAProxy's own range; 0 takes the server out of load balancing). */
export function validateWeight(field: string, value: unknown): number {
    return validateInteger(field, value, 0, 256);
}

/** Longest timeout accepted anywhere: 10 minutes. */
const MAX_TIMEOUT_MS = 600_000;

/** A timeout in milliseconds, 1..600000. */
export function validateTimeoutMs(field: string, value: unknown): number {
    return validateInteger(field, value, 1, MAX_TIMEOUT_MS);
}

/** Administrative states accepted by `set server <b>/<s> state`. */
export const SERVER_STATES = ["ready", "drain", "maint"] as const;
export type ServerState = (typeof SERVER_STATES)[number];

/** One of `SERVER_STATES`. */
export function validateServerState(field: string, value: unknown): ServerState {
    if (!SERVER_STATES.includes(value as ServerState)) {
        throw new RuntimeInputError(field, value, `one of ${SERVER_STATES.join(", ")}`);
    }
    return value as ServerState;
}

/** Health-check settings of a server added at run time. */
export interface CheckOptions {
    /** Whether the server gets the `check` keyword. */
    enabled: boolean;
    /** Interval between two checks in ms. @default HAProxy's 2000 */
    inter?: number;
    /** Interval while the server changes state (going UP or DOWN), in ms. @default `inter` */
    fastinter?: number;
    /** Interval while the server is DOWN, in ms. @default `inter` */
    downinter?: number;
    /** Consecutive successes to go UP. @default HAProxy's 2 */
    rise?: number;
    /** Consecutive failures to go DOWN. @default HAProxy's 3 */
    fall?: number;
}

/** Largest rise/fall count accepted. */
const MAX_RISE_FALL = 1000;

/** Throws if `value` is not a plain object or has keys outside `allowed`. */
export function validateKeys(field: string, value: unknown, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new RuntimeInputError(field, value, `an object with keys ${allowed.join(", ")}`);
    }
    for (const key of Object.keys(value)) {
        if (!allowed.includes(key)) {
            throw new RuntimeInputError(`${field}.${key}`, key, `one of the keys ${allowed.join(", ")}`);
        }
    }
    return value as Record<string, unknown>;
}

/** `CheckOptions`: `enabled` a boolean, `inter`, `fastinter`, `downinter` 1..600000 ms, `rise` and `fall` 1..1000. */
export function validateCheck(field: string, value: unknown): CheckOptions {
    const o = validateKeys(field, value, ["enabled", "inter", "fastinter", "downinter", "rise", "fall"]);
    if (typeof o.enabled !== "boolean") {
        throw new RuntimeInputError(`${field}.enabled`, o.enabled, "true or false");
    }
    // Absent, not undefined: the options are stored in state, where an undefined value cannot go.
    return {
        enabled: o.enabled,
        ...(o.inter === undefined ? {} : { inter: validateTimeoutMs(`${field}.inter`, o.inter) }),
        ...(o.fastinter === undefined ? {} : { fastinter: validateTimeoutMs(`${field}.fastinter`, o.fastinter) }),
        ...(o.downinter === undefined ? {} : { downinter: validateTimeoutMs(`${field}.downinter`, o.downinter) }),
        ...(o.rise === undefined ? {} : { rise: validateInteger(`${field}.rise`, o.rise, 1, MAX_RISE_FALL) }),
        ...(o.fall === undefined ? {} : { fall: validateInteger(`${field}.fall`, o.fall, 1, MAX_RISE_FALL) }),
    };
}
