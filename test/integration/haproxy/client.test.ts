/**
 * RuntimeClient verbs against a real HAProxy 2.6.12 (lab/haproxy.ts) with real HTTP servers.
 */
import assert from "node:assert/strict";
import { RuntimeClient, RuntimeCommandError, type RuntimeErrorCode } from "../../../src/haproxy/runtime/client";
import { findServerState } from "../../../src/haproxy/runtime/parsers";
import { RuntimeInputError } from "../../../src/haproxy/runtime/validate";
import { startFakeRuntimeApi, type FakeRuntimeApi } from "../../support/fakeRuntimeApi";
import { adminCommand } from "../../../src/targets/local/haproxyControl";
import { startHaproxy, type RunningHaproxy } from "../../../lab/haproxy";
import { startHttpServer, type TestHttpServer } from "../../../lab/httpServer";
import { waitFor } from "../../../lab/wait";

const FAST_CHECK = { enabled: true, inter: 100, rise: 1, fall: 1 };

/** Asserts that `promise` rejects with a RuntimeCommandError of `code` naming the command and endpoint. */
async function rejectsWithCode(promise: Promise<unknown>, code: RuntimeErrorCode, command: string, endpoint: string) {
    await assert.rejects(promise, (err: unknown) => {
        assert.ok(err instanceof RuntimeCommandError, `expected RuntimeCommandError, got ${err}`);
        assert.equal(err.code, code);
        assert.equal(err.command, command);
        assert.ok(err.message.startsWith(`${endpoint}: "${command}" failed (${code}): HAProxy replied "`), err.message);
        return true;
    });
}

/** GET through the frontend; returns the body (the name of the server that answered). */
async function get(lb: RunningHaproxy, path = "/"): Promise<string> {
    const res = await fetch(`${lb.frontendUrl}${path}`);
    assert.equal(res.status, 200, `GET ${path} answered ${res.status}`);
    return res.text();
}

describe("RuntimeClient against a real HAProxy", () => {
    let lb: RunningHaproxy;
    let client: RuntimeClient;
    const apps: TestHttpServer[] = [];

    before(async () => {
        lb = await startHaproxy();
    });

    after(async () => {
        await lb?.stop();
    });

    beforeEach(() => {
        client = new RuntimeClient(lb.unixAdmin);
    });

    afterEach(async () => {
        await client.close();
        await Promise.all(apps.splice(0).map((a) => a.stop()));
        // leave the backend empty for the next test, whatever this one did
        const cleaner = new RuntimeClient(lb.unixAdmin);
        for (const s of await cleaner.showServersState("app")) {
            await cleaner.setState("app", s.srv_name, "maint");
            await cleaner.shutdownSessions("app", s.srv_name);
            await waitFor(() => cleaner.delServer("app", s.srv_name).then(() => true), { what: `del server app/${s.srv_name}` });
        }
        await cleaner.close();
    });

    /**
     * True once the server is UP and a health check has passed. (Right after `set server … state
     * ready` HAProxy 2.6 reports `UP 1/3` with check status `INI` before any check has run.)
     */
    async function checkedUp(name: string): Promise<true | undefined> {
        const row = await client.getServer("app", name);
        return row?.status === "UP" && row.check_status === "L7OK" ? true : undefined;
    }

    /** Starts an HTTP server, adds it with a fast check, enables it and waits until it is UP. */
    async function addReady(name: string): Promise<TestHttpServer> {
        const app = await startHttpServer(name);
        apps.push(app);
        await client.addServer("app", name, { address: app.host, port: app.port, check: FAST_CHECK });
        await client.enableHealth("app", name);
        await client.setState("app", name, "ready");
        await waitFor(() => checkedUp(name), { what: `app/${name} to be UP after a passing check` });
        return app;
    }

    it("adds servers in MAINT; enable health + ready brings them UP and traffic flows to both", async () => {
        const blue = await startHttpServer("blue");
        apps.push(blue);
        await client.addServer("app", "blue", { address: "127.0.0.1", port: blue.port, weight: 10, check: FAST_CHECK });
        const added = await client.getServer("app", "blue");
        assert.equal(added?.status, "MAINT");
        assert.equal(added?.addr, `127.0.0.1:${blue.port}`);
        assert.equal(findServerState(await client.showServersState("app"), "app", "blue")?.srv_uweight, 10);
        await client.enableHealth("app", "blue");
        await client.setState("app", "blue", "ready");
        await waitFor(() => checkedUp("blue"), { what: "app/blue to be UP after a passing check" });
        const green = await addReady("green");
        await client.setWeight("app", "blue", 1);
        assert.equal(findServerState(await client.showServersState("app"), "app", "blue")?.srv_uweight, 1);

        const bodies = await Promise.all(Array.from({ length: 20 }, () => get(lb)));
        assert.deepEqual(new Set(bodies), new Set(["blue", "green"]));
        assert.equal(blue.requests + green.requests, 20);
        assert.ok(blue.healthChecks > 0 && green.healthChecks > 0);
    });

    it("drain: in-flight requests finish on the drained server, new ones go elsewhere", async () => {
        const blue = await addReady("blue");
        const slow = get(lb, "/slow?ms=1500");
        await waitFor(() => (blue.requests === 1 ? true : undefined), { what: "the slow request to reach blue" });
        await addReady("green");
        await client.setState("app", "blue", "drain");
        const row = await client.getServer("app", "blue");
        assert.equal(row?.status, "DRAIN");
        assert.equal(row?.scur, 1);
        const bodies = await Promise.all(Array.from({ length: 10 }, () => get(lb)));
        assert.deepEqual(new Set(bodies), new Set(["green"]));
        assert.equal(await slow, "blue");
        assert.equal(blue.requests, 1);
    });

    it("del server is refused with still-has-connections while a request is in flight, then succeeds", async () => {
        const blue = await addReady("blue");
        const slow = get(lb, "/slow?ms=1500");
        await waitFor(() => (blue.requests === 1 ? true : undefined), { what: "the slow request to reach blue" });
        await client.setState("app", "blue", "maint");
        await rejectsWithCode(client.delServer("app", "blue"), "still-has-connections", "del server app/blue", lb.unixAdmin);
        assert.equal(await slow, "blue");
        await waitFor(() => client.delServer("app", "blue").then(() => true), { what: "del server app/blue" });
        assert.equal(await client.getServer("app", "blue"), undefined);
    });

    it("shutdownSessions cuts the server's in-flight requests", async () => {
        const blue = await addReady("blue");
        const slow = fetch(`${lb.frontendUrl}/slow?ms=5000`).then((r) => r.status);
        await waitFor(() => (blue.requests === 1 ? true : undefined), { what: "the slow request to reach blue" });
        await client.shutdownSessions("app", "blue");
        const status = await slow.catch(() => "connection closed");
        assert.notEqual(status, 200);
        await waitFor(async () => ((await client.getServer("app", "blue"))?.scur === 0 ? true : undefined), {
            what: "app/blue to have no session",
        });
    });

    it("disableHealth stops the checks of a server", async () => {
        const blue = await addReady("blue");
        await client.disableHealth("app", "blue");
        const before = blue.healthChecks;
        await new Promise((r) => setTimeout(r, 400));
        assert.ok(blue.healthChecks - before <= 1, `${blue.healthChecks - before} checks after disable health`);
    });

    it("unknown servers and backends give distinguishable codes", async () => {
        const where = lb.unixAdmin;
        await rejectsWithCode(client.setState("app", "nope", "ready"), "no-such-server", "set server app/nope state ready", where);
        await rejectsWithCode(client.setWeight("app", "nope", 3), "no-such-server", "set server app/nope weight 3", where);
        await rejectsWithCode(client.enableHealth("app", "nope"), "no-such-server", "enable health app/nope", where);
        await rejectsWithCode(client.disableHealth("app", "nope"), "no-such-server", "disable health app/nope", where);
        await rejectsWithCode(client.shutdownSessions("app", "nope"), "no-such-server", "shutdown sessions server app/nope", where);
        await rejectsWithCode(client.delServer("app", "nope"), "no-such-server", "del server app/nope", where);
        await rejectsWithCode(client.delServer("nope", "x"), "no-such-backend", "del server nope/x", where);
        await rejectsWithCode(client.setState("nope", "x", "maint"), "no-such-backend", "set server nope/x state maint", where);
        await rejectsWithCode(
            client.addServer("nope", "x", { address: "127.0.0.1", port: 1 }),
            "no-such-backend",
            "add server nope/x 127.0.0.1:1",
            where,
        );
        await rejectsWithCode(client.showStat("nope"), "no-such-backend", "show stat nope -1 -1", where);
        await rejectsWithCode(client.showServersState("nope"), "no-such-backend", "show servers state nope", where);
        await rejectsWithCode(client.getServer("nope", "x"), "no-such-backend", "show stat nope -1 -1", where);
        assert.equal(await client.getServer("app", "nope"), undefined);
    });

    it("already-exists and not-in-maintenance are distinguishable too", async () => {
        await client.addServer("app", "dup", { address: "127.0.0.1", port: 1 });
        await rejectsWithCode(
            client.addServer("app", "dup", { address: "127.0.0.1", port: 2 }),
            "already-exists",
            "add server app/dup 127.0.0.1:2",
            lb.unixAdmin,
        );
        await client.setState("app", "dup", "ready");
        await rejectsWithCode(client.delServer("app", "dup"), "not-in-maintenance", "del server app/dup", lb.unixAdmin);
        await rejectsWithCode(client.enableHealth("app", "dup"), "unexpected-reply", "enable health app/dup", lb.unixAdmin);
    });

    it("adds IPv6 servers", async () => {
        await client.addServer("app", "v6", { address: "::1", port: 8080 });
        assert.equal((await client.getServer("app", "v6"))?.addr, "[::1]:8080");
        const [state] = await client.showServersState("app");
        assert.equal(state.srv_addr, "::1");
        assert.equal(state.srv_port, 8080);
    });

    describe("injection attempts", () => {
        let fake: FakeRuntimeApi;

        before(async () => {
            fake = await startFakeRuntimeApi();
        });

        after(async () => {
            await fake?.stop();
        });

        /** Calls that must be refused before anything is sent. */
        const attempts: [string, (c: RuntimeClient) => Promise<unknown>][] = [
            ["backend with ';'", (c) => c.setState("app/x; show stat", "x", "ready")],
            ["server with '; command'", (c) => c.delServer("app", "x; show stat")],
            ["server with a space", (c) => c.addServer("app", "web 1", { address: "127.0.0.1", port: 1 })],
            ["server with a newline", (c) => c.setState("app", "x\nset server app/y state ready", "ready")],
            ["server with '#'", (c) => c.enableHealth("app", "x#y")],
            ["server with '\\'", (c) => c.disableHealth("app", "x\\;y")],
            ["address with ' check;'", (c) => c.addServer("app", "ok", { address: "127.0.0.1 check;", port: 1 })],
            ["address with a newline", (c) => c.addServer("app", "ok", { address: "127.0.0.1\nshow info", port: 1 })],
            ["port as a string", (c) => c.addServer("app", "ok", { address: "127.0.0.1", port: "80; show info" as never })],
            ["weight as a string", (c) => c.setWeight("app", "ok", "1; show info" as never)],
            ["state with a command", (c) => c.setState("app", "ok", "ready; del server app/x" as never)],
            ["check inter as a string", (c) => c.addServer("app", "ok", { address: "127.0.0.1", port: 1, check: { enabled: true, inter: "1 fall 1" as never } })],
            ["unknown option", (c) => c.addServer("app", "ok", { address: "127.0.0.1", port: 1, extra: "backup" } as never)],
            ["raw ';'", (c) => c.execute("show stat; show info")],
            ["raw newline", (c) => c.execute("show info\nshow stat")],
            ["raw '\\r'", (c) => c.execute("show info\rshow stat")],
            ["raw '#'", (c) => c.execute("show stat #")],
            ["stat backend", (c) => c.showStat("app -1 -1; show info")],
            ["servers state backend", (c) => c.showServersState("app\nshow info")],
        ];

        it("are refused with RuntimeInputError before anything is sent", async () => {
            const recorded = new RuntimeClient(fake.url);
            for (const [what, attempt] of attempts) {
                await assert.rejects(attempt(recorded), RuntimeInputError, what);
            }
            assert.equal(fake.connections, 0);
            assert.equal(fake.received, "");
            await recorded.setState("app", "ok", "ready");
            await recorded.close();
            assert.equal(fake.received, "prompt\nshow info\nset server app/ok state ready\n", "the recorder does record what is sent");
        });

        it("leave a real HAProxy unchanged", async () => {
            await client.addServer("app", "ok", { address: "127.0.0.1", port: 1 });
            const before = await adminCommand(lb.adminSocket, "show servers state");
            for (const [what, attempt] of attempts) {
                await assert.rejects(attempt(client), RuntimeInputError, what);
            }
            assert.equal(await adminCommand(lb.adminSocket, "show servers state"), before);
        });
    });

    it("runs 200 concurrent adds, state changes, reads and deletes on one connection", async () => {
        const names = Array.from({ length: 200 }, (_, i) => `c-${i}`);
        const started = Date.now();
        const adds = await Promise.allSettled([
            ...names.map((n, i) => client.addServer("app", n, { address: "127.0.0.1", port: 20000 + i, check: FAST_CHECK })),
            client.addServer("app", "c-7", { address: "127.0.0.1", port: 1 }),
        ]);
        const refused = adds.flatMap((r, i) => (r.status === "rejected" ? [[i, (r.reason as RuntimeCommandError).code]] : []));
        assert.deepEqual(refused, [[200, "already-exists"]], "only the second add of c-7 fails");
        const rows = await Promise.all(names.map((n) => client.getServer("app", n)));
        assert.deepEqual(rows.map((r) => r?.svname), names, "each reply went to its own command");
        assert.deepEqual(rows.map((r) => r?.addr), names.map((_, i) => `127.0.0.1:${20000 + i}`));
        await Promise.all(names.map((n) => client.setWeight("app", n, 7)));
        const weights = (await client.showServersState("app")).map((r) => r.srv_uweight);
        assert.deepEqual(weights, names.map(() => 7));
        await Promise.all(names.map((n) => client.delServer("app", n)));
        assert.deepEqual(await client.showServersState("app"), []);
        const elapsedMs = Date.now() - started;
        assert.ok(elapsedMs < 10_000, `took ${elapsedMs} ms`);
    });
});
