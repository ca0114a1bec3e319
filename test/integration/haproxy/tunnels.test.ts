/**
 * Long-lived connections and the removal of a drained server, on real HAProxy (the version
 * BLUEGREEN_HAPROXY_VERSION selects): a WebSocket open on a draining server is shut once the drain is
 * `drain.tunnelGraceMs` old and its client reconnects to the serving server, while an ordinary long
 * request is waited for; a server HAProxy holds idle pooled connections to is removed within
 * `detachTimeoutMs` (3.0 and later are asked `wait srv-removable` first).
 */
import * as assert from "node:assert/strict";
import { Agent, get } from "node:http";
import provider from "../../../src/haproxy/membershipProvider";
import { RuntimeClient } from "../../../src/haproxy/runtime/client";
import { hasWaitSrvRemovable } from "../../../src/haproxy/runtime/versions";
import { fetchText } from "../../../lab/httpServer";
import { openWebSocket } from "../../../lab/webSocket";
import { waitFor } from "../../../lab/wait";
import { membershipLab } from "../../support/membershipLab";

describe("WebSockets and idle connections when a server leaves (real HAProxy)", function () {
    this.timeout(60_000);
    const { lbs, log, appServer, inputs, create } = membershipLab({
        check: { enabled: true, inter: 100, rise: 1, fall: 2 },
        drain: { pollIntervalMs: 50, timeoutMs: 20_000, quietPeriodMs: 0 },
    });

    it("shuts a WebSocket on the draining server after the tunnel grace, waits for a long request, and the client reconnects to the serving server", async () => {
        const leaving = await appServer("ws-leaving");
        // Every membership of the backend registered in an update announces the drain settings its deletes use (todaysSettings.ts).
        const drain = { pollIntervalMs: 50, timeoutMs: 20_000, quietPeriodMs: 0, tunnelGraceMs: 1500 };
        const leavingOuts = await create(inputs(leaving, { drain }));
        const socket = await openWebSocket(`${lbs[0].frontendUrl}/live`);
        assert.equal(socket.messages[0], "ws-leaving", "the WebSocket is on the only server");
        socket.send("hello");
        await waitFor(() => (socket.messages.includes("ws-leaving: hello") ? true : undefined), { what: "the echo through the load balancer" });
        const staying = await appServer("ws-staying");
        await create(inputs(staying, { drain }));
        const drainStarted = Date.now();
        const long = fetchText(`${lbs[0].frontendUrl}/slow?ms=4000`).catch((err: Error) => err);
        await waitFor(() => (leaving.requests > 0 ? true : undefined), { what: "the long request on ws-leaving" });
        await provider.delete!("app/ws-leaving", leavingOuts);
        const removedAfter = Date.now() - drainStarted;

        const closedAfter = (await socket.closed) - drainStarted;
        assert.ok(closedAfter >= 1500, `the WebSocket had its grace: closed after ${closedAfter} ms`);
        assert.ok(log.some((l) => /lb1: app\/ws-leaving: 1 tunnels \(WebSocket, CONNECT\) still open after the 1500 ms grace: shut down/.test(l)), log.join("\n"));
        const held = await long;
        assert.ok(!(held instanceof Error), `the long request was not cut: ${String(held)}`);
        assert.deepEqual([held.status, held.body], [200, "ws-leaving"], "the long request completed on the draining server");
        assert.ok(removedAfter >= 3500, `the server stayed until the long request ended: removed after ${removedAfter} ms`);
        await waitFor(() => (leaving.webSockets === 0 ? true : undefined), { what: "no WebSocket left on the removed server" });

        const again = await openWebSocket(`${lbs[0].frontendUrl}/live`);
        assert.equal(again.messages[0], "ws-staying", "the client reconnects to the serving server");
        again.close();
    });

    it("keeps a WebSocket for the whole drain when the drain ends sooner than its grace: only tunnels past their grace are shut", async () => {
        const leaving = await appServer("ws-short");
        const drain = { pollIntervalMs: 50, timeoutMs: 1500, onTimeout: "force", quietPeriodMs: 0, tunnelGraceMs: 60_000 };
        const outs = await create(inputs(leaving, { drain }));
        const socket = await openWebSocket(`${lbs[1].frontendUrl}/live`);
        await create(inputs(await appServer("ws-other"), { drain }));
        await provider.delete!("app/ws-short", outs);
        await socket.closed;
        assert.ok(log.some((l) => /lb2: app\/ws-short: drain timeout, shutting down 1 remaining sessions \(onTimeout: force\)/.test(l)), log.join("\n"));
        assert.ok(!log.some((l) => /ws-short: .*tunnels .* shut down/.test(l)), "no tunnel was shut for its grace");
    });

    it("removes a drained server that HAProxy holds idle pooled connections to, within detachTimeoutMs (3.0+: wait srv-removable)", async () => {
        const pooled = await appServer("idle-pooled");
        const outs = await create(inputs(pooled, { detachTimeoutMs: 5_000 }));
        await create(inputs(await appServer("idle-other"), { detachTimeoutMs: 5_000 }));
        // A server added at run time keeps no idle connection on 2.6; one loaded from the servers file does.
        await lbs[0].reload("master");
        // Keep-alive requests leave the server's connection idle in HAProxy's pool once the client has gone.
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        for (let i = 0; i < 4; i++) await new Promise((resolve, reject) => get(`${lbs[0].frontendUrl}/`, { agent }, (res) => res.resume().on("end", resolve)).on("error", reject));
        agent.destroy();
        const client = new RuntimeClient(lbs[0].unixAdmin);
        const version = (await client.currentProcess()).version;
        const idle = await waitFor(async () => idleConnections(await client.execute("show servers conn app"), "app/idle-pooled") || undefined, { what: "an idle pooled connection to idle-pooled" });
        const started = Date.now();
        await provider.delete!("app/idle-pooled", outs);
        const tookMs = Date.now() - started;
        assert.equal(await client.getServer("app", "idle-pooled"), undefined, "removed");
        await client.close();
        assert.ok(idle > 0 && tookMs < 5_000, `removed in ${tookMs} ms with ${idle} idle connections`);
        console.log(`      HAProxy ${version}: removed in ${tookMs} ms with ${idle} idle pooled connections (wait srv-removable: ${hasWaitSrvRemovable(version)})`);
    });
});

/** `idle_cur` of `<backend>/<server>` in `show servers conn` output (0 if absent). */
function idleConnections(table: string, name: string): number {
    const [header, ...rows] = table.trim().split("\n");
    const column = header.replace(/^# /, "").split(" ").indexOf("idle_cur");
    const row = rows.find((r) => r.startsWith(`${name} `));
    return row ? Number(row.split(" ")[column]) : 0;
}
