/**
 * Parsers tested on output captured from a real HAProxy 2.6.12 started by lab/haproxy.ts
 * (backend `app`, servers added at run time): web1 UP, web2 DOWN (health 503), web3 MAINT (never
 * enabled), web4 DRAIN (weight 50), web5 without check, v6 on [::1]:8080 in MAINT; six requests
 * went through the frontend. `interactive-session.txt` is the raw reply stream to `INTERACTIVE`
 * written in one go after `prompt`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
    findServerState,
    findStatRow,
    parseCsv,
    parseServersState,
    parseTunnels,
    parseShowStat,
    RuntimeFormatError,
    splitReplies,
} from "../../../src/haproxy/runtime/parsers";

const fixture = (name: string) => readFileSync(join(__dirname, "../../fixtures/haproxy", name), "utf8");

/** The commands whose replies `interactive-session.txt` holds, in order (`quit` has none). */
const INTERACTIVE = [
    "prompt",
    "add server app/web6 127.0.0.1:9 check",
    "add server app/web6 127.0.0.1:9",
    "enable health app/web6",
    "set server app/web6 state drain",
    "set server app/nope state ready",
    "set server nope/web6 state ready",
    "del server app/web6",
    "set server app/web6 state maint",
    "del server app/web6",
    "del server app/web6",
    "show servers state app",
];

describe("haproxy parsers", () => {
    describe("splitReplies (interactive mode framing)", () => {
        it("splits a captured session into one reply per command", async () => {
            const { replies, rest } = splitReplies(fixture("interactive-session.txt"));
            assert.equal(rest, "");
            assert.equal(replies.length, INTERACTIVE.length);
            assert.deepEqual(replies.slice(0, 11), [
                "",
                "New server registered.\n",
                "Already exists a server with the same name in backend.\n",
                "",
                "",
                "No such server.\n",
                "No such backend.\n",
                "Only servers in maintenance mode can be deleted.",
                "",
                "Server deleted.",
                "No such server.",
            ]);
            assert.equal(parseServersState(replies[11]).length, 6);
        });

        it("keeps an incomplete reply, whatever the chunk boundaries", async () => {
            const text = fixture("interactive-session.txt");
            for (const cut of [1, 2, 3, 25, 26, 27, text.length - 2, text.length - 1]) {
                const first = splitReplies(text.slice(0, cut));
                const second = splitReplies(first.rest + text.slice(cut));
                assert.deepEqual([...first.replies, ...second.replies], splitReplies(text).replies, `cut at ${cut}`);
                assert.equal(second.rest, "");
            }
            assert.deepEqual(splitReplies("New server regis"), { replies: [], rest: "New server regis" });
        });
    });

    describe("parseShowStat", () => {
        const rows = parseShowStat(fixture("show-stat.txt"));

        it("returns every row with its proxy and server name", async () => {
            assert.deepEqual(
                rows.map((r) => `${r.pxname}/${r.svname}`),
                ["fe/FRONTEND", "app/web1", "app/web2", "app/web3", "app/web4", "app/web5", "app/v6", "app/BACKEND"],
            );
        });

        it("types the columns callers use", async () => {
            const web1 = findStatRow(rows, "app", "web1");
            assert.ok(web1);
            assert.equal(web1.status, "UP");
            assert.equal(web1.check_status, "L7OK");
            assert.equal(web1.scur, 0);
            assert.equal(web1.qcur, 0);
            assert.equal(web1.weight, 1);
            assert.match(web1.addr ?? "", /^127\.0\.0\.1:\d+$/);
            assert.equal(web1.last_chk, undefined);
            assert.equal(typeof web1.stot, "number");

            const web2 = findStatRow(rows, "app", "web2");
            assert.equal(web2?.status, "DOWN");
            assert.equal(web2?.check_status, "L7STS");
            assert.equal(web2?.last_chk, "Service Unavailable");
            assert.equal(web2?.check_code, 503);

            assert.equal(findStatRow(rows, "app", "web3")?.status, "MAINT");
            assert.equal(findStatRow(rows, "app", "web3")?.check_status, undefined);
            assert.equal(findStatRow(rows, "app", "web4")?.status, "DRAIN");
            assert.equal(findStatRow(rows, "app", "web4")?.weight, 50);
            assert.equal(findStatRow(rows, "app", "web5")?.status, "no check");
            assert.equal(findStatRow(rows, "app", "v6")?.addr, "[::1]:8080");
        });

        it("leaves empty columns undefined", async () => {
            const fe = findStatRow(rows, "fe", "FRONTEND");
            assert.equal(fe?.status, "OPEN");
            assert.equal(fe?.qcur, undefined);
            assert.equal(fe?.weight, undefined);
            assert.equal(fe?.addr, undefined);
        });

        it("counts the six requests of the capture on the servers", async () => {
            const served = ["web1", "web4", "web5"].map((s) => findStatRow(rows, "app", s)?.stot ?? 0);
            assert.equal(served.reduce((a, b) => a + b, 0), 6);
            assert.equal(findStatRow(rows, "app", "BACKEND")?.stot, 6);
        });

        it("finds nothing for an unknown server", async () => {
            assert.equal(findStatRow(rows, "app", "web9"), undefined);
            assert.equal(findStatRow(rows, "other", "web1"), undefined);
        });

        it("rejects text that is not show stat output", async () => {
            for (const bad of ["No such proxy.\n", "", "pxname,svname\napp,web1\n", "# svname,pxname,\n"]) {
                assert.throws(() => parseShowStat(bad), RuntimeFormatError, JSON.stringify(bad));
            }
            assert.throws(() => parseShowStat("# pxname,svname,scur,\napp,web1,lots,\n"), {
                message: 'show stat row app/web1: column scur is not an integer: "lots"',
            });
        });

        it("handles quoted fields", async () => {
            const [row] = parseShowStat('# pxname,svname,last_chk,scur,\napp,web1,"said ""no"", twice",3,\n');
            assert.equal(row.last_chk, 'said "no", twice');
            assert.equal(row.scur, 3);
        });

        it("gives the last check's status without the \"* \" HAProxy puts before it while the next check runs", async () => {
            const rows = parseShowStat("# pxname,svname,status,check_status,\napp,web1,MAINT,* L7OK,\napp,web2,MAINT,* L7STS,\n");
            assert.deepEqual(rows.map((r) => r.check_status), ["L7OK", "L7STS"]);
        });
    });

    describe("parseCsv", () => {
        it("splits records and honours quotes, including newlines inside quotes", async () => {
            assert.deepEqual(parseCsv('a,b,\n"x,y","1\n2"\n'), [["a", "b", ""], ["x,y", "1\n2"]]);
            assert.deepEqual(parseCsv("a"), [["a"]]);
            assert.deepEqual(parseCsv(""), []);
        });
    });

    describe("parseServersState", () => {
        it("parses the captured table of all backends and of one backend alike", async () => {
            const all = parseServersState(fixture("show-servers-state.txt"));
            const app = parseServersState(fixture("show-servers-state-app.txt"));
            assert.deepEqual(app, all);
            assert.deepEqual(all.map((r) => r.srv_name), ["web1", "web2", "web3", "web4", "web5", "v6"]);
        });

        it("types the columns and turns '-' into undefined", async () => {
            const rows = parseServersState(fixture("show-servers-state.txt"));
            const web1 = findServerState(rows, "app", "web1");
            assert.ok(web1);
            assert.equal(web1.be_name, "app");
            assert.equal(web1.be_id, 3);
            assert.equal(web1.srv_id, 1);
            assert.equal(web1.srv_addr, "127.0.0.1");
            assert.equal(web1.srv_op_state, 2);
            assert.equal(web1.srv_admin_state, 0);
            assert.equal(web1.srv_fqdn, undefined);
            assert.equal(typeof web1.srv_port, "number");
            assert.equal(findServerState(rows, "app", "web2")?.srv_op_state, 0);
            assert.equal(findServerState(rows, "app", "web3")?.srv_admin_state, 1);
            assert.equal(findServerState(rows, "app", "web4")?.srv_admin_state, 8);
            assert.equal(findServerState(rows, "app", "web4")?.srv_uweight, 50);
            assert.equal(findServerState(rows, "app", "v6")?.srv_addr, "::1");
            assert.equal(findServerState(rows, "app", "v6")?.srv_port, 8080);
            assert.equal(findServerState(rows, "app", "nope"), undefined);
        });

        it("rejects other format versions", async () => {
            const text = fixture("show-servers-state.txt").replace(/^1\n/, "2\n");
            assert.throws(() => parseServersState(text), {
                name: "RuntimeFormatError",
                message: "show servers state: unsupported output format version 2",
            });
        });

        it("rejects error replies, unknown headers and ragged rows", async () => {
            assert.throws(() => parseServersState("Can't find backend.\n"), /expected a format version on the first line, got "Can't find backend\."/);
            assert.throws(() => parseServersState("1\n# be_name be_id\n"), /unexpected header/);
            const text = fixture("show-servers-state.txt").replace(" - 0\n", " -\n");
            assert.throws(() => parseServersState(text), /24 values for 25 columns/);
        });

        it("returns no rows for a backend without servers", async () => {
            const header = fixture("show-servers-state.txt").split("\n").slice(0, 2).join("\n");
            assert.deepEqual(parseServersState(`${header}\n\n`), []);
        });
    });
    describe("parseTunnels (show sess all)", () => {
        /** One stream of a `show sess all` dump as HAProxy 2.6 prints it, trimmed to the lines the parser reads. */
        const stream = (id: string, backend: string, server: string, states: string) =>
            [
                `${id}: [03/Dec/2026:13:42:52.249358] id=6 proto=tcpv4 source=127.0.0.1:38326`,
                "  flags=0x400c4a, conn_retries=0, conn_exp=<NEVER> conn_et=0x000 srv_conn=0x55bd992ab8a0, pend_pos=(nil) waiting=0 epoch=0x3",
                "  frontend=fe (id=3 mode=http), listener=? (id=1) addr=127.0.0.1:19100",
                `  backend=${backend} (id=2 mode=http) addr=127.0.0.1:43428`,
                `  server=${server} (id=1) addr=127.0.0.1:19101`,
                `  txn=0x55bd99489640 flags=0x8000 meth=1 status=101 ${states} req.f=0xcc rsp.f=0xcc`,
                "  req=0x55bd9936e400 (f=0x8848202 an=0x0 pipe=0 tofwd=-1 total=145)",
            ].join("\n");

        it("finds the tunnels of one server, not its ordinary streams nor another server's", () => {
            const dump = [
                stream("0x55bd9936e3e0", "app", "app-g1-0", "req.st=MSG_TUNNEL rsp.st=MSG_TUNNEL"),
                stream("0x55bd9936e400", "app", "app-g1-0", "req.st=MSG_DONE rsp.st=MSG_DATA"),
                stream("0x55bd9936e420", "app", "app-g1-01", "req.st=MSG_TUNNEL rsp.st=MSG_TUNNEL"),
                stream("0x55bd9936e440", "other", "app-g1-0", "req.st=MSG_TUNNEL rsp.st=MSG_TUNNEL"),
                stream("0x55bd9936e460", "app", "app-g1-0", "req.st=MSG_DONE rsp.st=MSG_TUNNEL"),
                "0x7f3f7803a090: [03/Dec/2026:13:42:53.120575] id=7 proto=unix_stream source=unix:1\n  backend=<NONE> (id=-1 mode=-)\n  server=<NONE> (id=-1)",
                "",
            ].join("\n");
            assert.deepEqual(parseTunnels(dump, "app", "app-g1-0"), ["0x55bd9936e3e0", "0x55bd9936e460"]);
            assert.deepEqual(parseTunnels(dump, "app", "app-g1"), []);
            assert.deepEqual(parseTunnels("", "app", "app-g1-0"), []);
        });
    });
});
