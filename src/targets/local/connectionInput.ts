/**
 * The `connection` input of the local database's dependents (snapshot, migration, app servers): checked
 * field by field, the password never quoted in a failure.
 */
import { RuntimeInputError } from "../../haproxy/runtime/validate";
import type { FieldRule } from "./inputs";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export const connectionRule: FieldRule = (field, value) => {
    const c = value as Record<string, unknown> | null;
    if (typeof c !== "object" || c === null) throw new RuntimeInputError(field, "(object)", "an object with host, port, database, user, password");
    if (c.host !== "127.0.0.1") throw new RuntimeInputError(`${field}.host`, c.host, "127.0.0.1 (the local target's database)");
    if (typeof c.port !== "number" || !Number.isInteger(c.port) || c.port < 1 || c.port > 65535) throw new RuntimeInputError(`${field}.port`, c.port, "a port number");
    for (const key of ["database", "user"] as const) {
        if (typeof c[key] !== "string" || !IDENTIFIER.test(c[key] as string)) throw new RuntimeInputError(`${field}.${key}`, c[key], "a lowercase SQL identifier");
    }
    if (typeof c.password !== "string" || c.password.length < 16 || /[\u0000-\u001f]/.test(c.password)) {
        throw new RuntimeInputError(`${field}.password`, "(secret)", "a string of at least 16 characters without control characters");
    }
    return value;
};
