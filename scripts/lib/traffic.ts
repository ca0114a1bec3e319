/**
 * Live traffic through the load balancers while a flip runs: keep-alive clients at a steady rate plus
 * long-lived requests of several seconds, and optionally sticky clients: keep-alive clients that keep the
 * persistence cookie HAProxy sets and send it back, each through one load balancer, in sessions of a few
 * requests (a session that never ended would hold a drained server forever). Every answer records which server and generation gave it, so a
 * report can show failures, which generation answered over time, and long requests that were in flight
 * on the old generation when it was drained. Sends only to the URLs it is given (loopback here).
 */
import { Agent, request } from "node:http";

export interface TrafficOptions {
    /** Frontend URLs of the load balancers, e.g. `http://127.0.0.1:18080/`. Requests rotate over them. */
    urls: string[];
    /** Short requests per second over all clients. @default 40 */
    ratePerSecond?: number;
    /** Keep-alive clients sending the short requests. @default 4 */
    clients?: number;
    /** Duration of a long request, in ms. @default 4000 */
    longRequestMs?: number;
    /** A new long request starts this often, in ms. @default 1000 */
    longEveryMs?: number;
    /** A request without an answer after this long fails, in ms. @default 30000 */
    requestTimeoutMs?: number;
    /** Sticky clients (cookie kept and sent back), each at the rate of one keep-alive client. @default 0 */
    stickyClients?: number;
    /** Requests of a sticky client's session; then it forgets its cookie and starts a new one. @default 10 */
    stickySessionRequests?: number;
}

export interface Answer {
    kind: "short" | "long" | "sticky";
    url: string;
    startedAt: number;
    endedAt: number;
    /** HTTP status, or undefined when the request failed before an answer. */
    status?: number;
    server?: string;
    generation?: string;
    error?: string;
}

export interface TrafficResult {
    answers: Answer[];
    total: number;
    failed: Answer[];
}

const DEFAULTS = { ratePerSecond: 40, clients: 4, longRequestMs: 4000, longEveryMs: 1000, requestTimeoutMs: 30_000, stickyClients: 0, stickySessionRequests: 10 };

/** A sticky client's cookies: what the last `Set-Cookie` headers set, sent back as `Cookie`. */
interface CookieJar {
    cookie?: string;
}

/** One GET (with `jar`'s cookie, keeping what the answer sets); resolves with what it got, never rejects. */
function send(agent: Agent, kind: Answer["kind"], url: string, timeoutMs: number, jar?: CookieJar): Promise<Answer> {
    const startedAt = Date.now();
    return new Promise((resolve) => {
        const done = (a: Partial<Answer>) => resolve({ kind, url, startedAt, endedAt: Date.now(), ...a });
        const headers = jar?.cookie ? { cookie: jar.cookie } : {};
        const req = request(url, { agent, timeout: timeoutMs, headers }, (res) => {
            const set = res.headers["set-cookie"];
            if (jar && set) jar.cookie = set.map((c) => c.split(";")[0]).join("; ");
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (body += c));
            res.on("end", () => {
                let parsed: { server?: string; generation?: string } = {};
                try {
                    parsed = JSON.parse(body);
                } catch {
                    // not the app's JSON (e.g. HAProxy's 503 page): recorded by status and error below
                }
                const ok = res.statusCode === 200;
                done({ status: res.statusCode, server: parsed.server, generation: parsed.generation, ...(ok ? {} : { error: `HTTP ${res.statusCode}` }) });
            });
            res.on("error", (err) => done({ error: err.message }));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", (err) => done({ error: err.message }));
        req.end();
    });
}

/** Running traffic; `stop()` waits for every request in flight and returns all answers. */
export class Traffic {
    private readonly answers: Answer[] = [];
    private readonly inflight = new Set<Promise<void>>();
    private readonly timers: NodeJS.Timeout[] = [];
    private readonly agents: Agent[] = [];
    private running = true;

    constructor(options: TrafficOptions) {
        const o = { ...DEFAULTS, ...options };
        if (o.urls.length === 0) throw new Error("traffic: urls must name at least one load balancer frontend");
        const base = o.urls.map((u) => u.replace(/\/$/, ""));
        let next = 0;
        const pick = () => base[next++ % base.length];
        const track = (p: Promise<Answer>) => {
            const t = p.then((a) => void this.answers.push(a));
            this.inflight.add(t);
            void t.finally(() => this.inflight.delete(t));
            return t;
        };
        const intervalMs = (1000 * o.clients) / o.ratePerSecond;
        /** A keep-alive client sending one request every `intervalMs`, from `delayMs` on, to `target()`. */
        const client = (kind: Answer["kind"], delayMs: number, target: () => string, jar?: CookieJar) => {
            const agent = new Agent({ keepAlive: true, maxSockets: 1 });
            this.agents.push(agent);
            const loop = async () => {
                for (let sent = 1; this.running; sent++) {
                    const began = Date.now();
                    await track(send(agent, kind, `${target()}/`, o.requestTimeoutMs, jar));
                    if (jar && sent % o.stickySessionRequests === 0) delete jar.cookie; // the session ends
                    await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - began))));
                }
            };
            this.timers.push(setTimeout(() => void loop(), delayMs));
        };
        for (let c = 0; c < o.clients; c++) client("short", (intervalMs / o.clients) * c, pick);
        for (let c = 0; c < o.stickyClients; c++) client("sticky", (intervalMs / o.stickyClients) * c, () => base[c % base.length], {});
        // Long requests each take a new connection: a pool of keep-alive sockets used now and then would
        // let one sit idle past HAProxy's keep-alive timeout and race its close (a client-side failure).
        const longAgent = new Agent({ keepAlive: false });
        this.agents.push(longAgent);
        const startLong = () => void track(send(longAgent, "long", `${pick()}/slow?ms=${o.longRequestMs}`, o.requestTimeoutMs));
        startLong();
        this.timers.push(setInterval(startLong, o.longEveryMs));
    }

    /** Stops sending, waits for requests in flight, and returns every answer. */
    async stop(): Promise<TrafficResult> {
        this.running = false;
        this.timers.forEach((t) => clearInterval(t));
        while (this.inflight.size > 0) await Promise.all([...this.inflight]);
        this.agents.forEach((a) => a.destroy());
        const answers = [...this.answers].sort((a, b) => a.startedAt - b.startedAt);
        return { answers, total: answers.length, failed: answers.filter((a) => a.error !== undefined) };
    }
}
