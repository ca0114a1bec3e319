/**
 * An agent check (`options.agent`) cannot undo a drain: HAProxy applies an agent's `ready` answer by
 * clearing DRAIN, so the drain stops the agent on the server and sets DRAIN again if anything makes the
 * server serve meanwhile; a server made to serve again (a rollback's repair) gets its agent back. Real
 * HAProxy (the version BLUEGREEN_HAPROXY_VERSION selects), an agent on loopback that always says `up ready`.
 */
import * as assert from "node:assert/strict";
import { createServer, type AddressInfo, type Server } from "node:net";
import provider from "../../../src/haproxy/membershipProvider";
import { fetchText } from "../../../lab/httpServer";
import { waitFor } from "../../../lab/wait";
import { membershipLab } from "../../support/membershipLab";

describe("Agent checks during a drain (real HAProxy)", function () {
    this.timeout(60_000);
    const { lbs, log, appServer, inputs, create } = membershipLab({
        check: { enabled: true, inter: 100, rise: 1, fall: 2 },
        drain: { pollIntervalMs: 50, timeoutMs: 20_000, quietPeriodMs: 0 },
    });
    let agent: Server;
    let agentPort: number;
    let agentAnswers = 0;

    before(async () => {
        agent = createServer((socket) => {
            agentAnswers++;
            socket.on("error", () => undefined); // HAProxy may reset the connection once it read the answer
            socket.end("up ready\n"); // what an agent of a healthy server says
        });
        await new Promise<void>((resolve) => agent.listen(0, "127.0.0.1", resolve));
        agentPort = (agent.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((resolve) => agent.close(() => resolve())));

    it("a server whose agent keeps answering `up ready` takes no new request while it drains", async () => {
        const options = { agent: { port: agentPort, interMs: 100 } };
        const leaving = await appServer("agent-leaving");
        const leavingOuts = await create(inputs(leaving, { options }));
        const long = fetchText(`${lbs[0].frontendUrl}/slow?ms=3000`); // held on agent-leaving, the only server
        await waitFor(() => (leaving.requests > 0 ? true : undefined), { what: "the long request on agent-leaving" });
        const staying = await appServer("agent-staying");
        await create(inputs(staying, { options }));
        const answersBefore = agentAnswers;
        const deleting = provider.delete!("app/agent-leaving", leavingOuts);
        await waitFor(() => (log.some((l) => /lb1: app\/agent-leaving draining: no new sessions/.test(l)) ? true : undefined), { what: "the drain to start" });
        const answeredBy: string[] = [];
        while ((await Promise.race([deleting.then(() => "done"), new Promise((r) => setTimeout(() => r("running"), 50))])) === "running") {
            answeredBy.push((await fetchText(`${lbs[0].frontendUrl}/`)).body);
        }
        const held = await long;
        assert.deepEqual([held.status, held.body], [200, "agent-leaving"], "the long request completed on the drained server");
        assert.ok(agentAnswers > answersBefore, "the agent was asked while the servers served");
        assert.ok(answeredBy.length >= 20, `requests during the drain: ${answeredBy.length}`);
        assert.deepEqual([...new Set(answeredBy)], ["agent-staying"], "no new request reached the draining server");
    });
});
