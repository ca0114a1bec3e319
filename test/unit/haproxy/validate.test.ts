import assert from "node:assert/strict";
import {
    quote,
    RuntimeInputError,
    validateAddress,
    validateCheck,
    validateKeys,
    validateName,
    validatePort,
    validateServerState,
    validateTimeoutMs,
    validateWeight,
} from "../../../src/haproxy/runtime/validate";

/** Characters that could change the shape of a Runtime API command line. */
const HOSTILE = [";", "\n", "\r", " ", "#", "\\", "\t", "\0", "/", "<", "'", '"', "$", "`"];

function rejects(fn: () => unknown, field: string, valueInMessage: string) {
    assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof RuntimeInputError, `expected RuntimeInputError, got ${err}`);
        assert.equal(err.field, field);
        assert.ok(err.message.includes(valueInMessage), `message ${JSON.stringify(err.message)} lacks ${valueInMessage}`);
        assert.match(err.message, /expected /);
        return true;
    });
}

describe("haproxy validate", () => {
    describe("validateName", () => {
        it("accepts HAProxy identifiers of 1 to 63 characters", async () => {
            for (const name of ["a", "app", "web-1", "blue_v1.2", "srv:8080", "9lives", "x".repeat(63)]) {
                assert.equal(validateName("server", name), name);
            }
        });

        it("rejects empty, too long, leading punctuation and non-strings", async () => {
            for (const bad of ["", "x".repeat(64), "-a", ".a", "_a", ":a", 42, undefined, null]) {
                assert.throws(() => validateName("server", bad), RuntimeInputError, String(bad));
            }
        });

        it("rejects every character that could inject a command", async () => {
            for (const c of HOSTILE) {
                rejects(() => validateName("backend", `app${c}x`), "backend", JSON.stringify(`app${c}x`).slice(1, 4));
            }
        });

        it("names the field, quotes the value and says what is allowed", async () => {
            assert.throws(() => validateName("server", "app/x; show stat"), {
                name: "RuntimeInputError",
                message:
                    'server: "app/x; show stat" is not allowed; expected 1 to 63 letters, digits, \'-\', \'_\', \'.\' or \':\', starting with a letter or digit',
            });
        });

        it("truncates long values in the message", async () => {
            assert.throws(
                () => validateName("server", "y".repeat(500)),
                (err: Error) => err.message.includes(`"${"y".repeat(40)}…"`) && !err.message.includes("y".repeat(41)),
            );
        });
    });

    describe("validateAddress", () => {
        it("accepts IPv4, IPv6 and host names", async () => {
            for (const a of ["127.0.0.1", "10.0.12.7", "::1", "fe80::1", "2001:db8::42", "::ffff:10.0.0.1", "localhost", "app-1.internal.example.com"]) {
                assert.equal(validateAddress("address", a), a);
            }
        });

        it("rejects malformed addresses, brackets, zone ids, ports and hostile characters", async () => {
            for (const bad of ["", "256.1.1.1", "1.2.3", "[::1]", "fe80::1%eth0", "127.0.0.1:80", "-host", "host-", "a..b", "x".repeat(64), "127.0.0.1 check;", 2130706433]) {
                assert.throws(() => validateAddress("address", bad), RuntimeInputError, String(bad));
            }
            for (const c of HOSTILE) {
                assert.throws(() => validateAddress("address", `10.0.0.1${c}`), RuntimeInputError);
                assert.throws(() => validateAddress("address", `host${c}name`), RuntimeInputError);
            }
        });
    });

    describe("integers", () => {
        it("port is 1..65535", async () => {
            assert.equal(validatePort("port", 1), 1);
            assert.equal(validatePort("port", 65535), 65535);
            for (const bad of [0, 65536, -1, 80.5, "80", NaN, Infinity]) {
                rejects(() => validatePort("port", bad), "port", String(bad));
            }
        });

        it("weight is 0..256", async () => {
            assert.equal(validateWeight("weight", 0), 0);
            assert.equal(validateWeight("weight", 256), 256);
            for (const bad of [-1, 257, 1.5, "10"]) {
                assert.throws(() => validateWeight("weight", bad), /weight: .* expected an integer from 0 to 256/);
            }
        });

        it("timeouts are 1..600000 ms", async () => {
            assert.equal(validateTimeoutMs("ioTimeoutMs", 1), 1);
            assert.equal(validateTimeoutMs("ioTimeoutMs", 600_000), 600_000);
            for (const bad of [0, 600_001, 2.5, "5000"]) {
                assert.throws(() => validateTimeoutMs("ioTimeoutMs", bad), /ioTimeoutMs: /);
            }
        });
    });

    it("server state is ready, drain or maint", async () => {
        for (const s of ["ready", "drain", "maint"]) assert.equal(validateServerState("state", s), s);
        for (const bad of ["READY", "up", "maint; show stat", ""]) {
            assert.throws(() => validateServerState("state", bad), /state: .* expected one of ready, drain, maint/);
        }
    });

    describe("validateCheck", () => {
        it("accepts enabled with optional inter, rise and fall", async () => {
            assert.deepEqual(validateCheck("check", { enabled: true }), { enabled: true });
            // No undefined values: the result is stored in state (a dynamic provider's outputs).
            assert.deepEqual(Object.keys(validateCheck("check", { enabled: true, inter: 200 })), ["enabled", "inter"]);
            assert.deepEqual(validateCheck("check", { enabled: false, inter: 500, rise: 2, fall: 3 }), { enabled: false, inter: 500, rise: 2, fall: 3 });
        });

        it("rejects missing enabled, bad numbers and unknown keys such as path", async () => {
            rejects(() => validateCheck("check", {}), "check.enabled", "undefined");
            rejects(() => validateCheck("check", { enabled: "yes" }), "check.enabled", '"yes"');
            rejects(() => validateCheck("check", { enabled: true, inter: 0 }), "check.inter", "0");
            rejects(() => validateCheck("check", { enabled: true, rise: 0 }), "check.rise", "0");
            rejects(() => validateCheck("check", { enabled: true, fall: 1001 }), "check.fall", "1001");
            rejects(() => validateCheck("check", { enabled: true, path: "/health" }), "check.path", '"path"');
            rejects(() => validateCheck("check", null), "check", "null");
        });
    });

    it("validateKeys rejects arrays and unknown keys", async () => {
        assert.deepEqual(validateKeys("o", { a: 1 }, ["a", "b"]), { a: 1 });
        rejects(() => validateKeys("o", [1], ["a"]), "o", "1");
        rejects(() => validateKeys("o", { c: 1 }, ["a", "b"]), "o.c", '"c"');
    });

    it("quote JSON-quotes strings and shows other values plainly", async () => {
        assert.equal(quote('a"b\n'), '"a\\"b\\n"');
        assert.equal(quote(42), "42");
        assert.equal(quote(undefined), "undefined");
    });
});
