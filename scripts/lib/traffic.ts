/**
 * Live traffic through the load balancers while a flip runs: keep-alive clients at a steady rate plus
 * long-lived requests of several seconds. Every answer records which server and generation gave it, so a
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
}

export interface Answer {
    kind: "short" | "long";
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

const DEFAULTS = { ratePerSecond: 40, clients: 4, longRequestMs: 4000, longEveryMs: 1000, requestTimeoutMs: 30_000 };

/** One GET; resolves with what it got, never rejects. */
function send(agent: Agent, kind: Answer["kind"], url: string, timeoutMs: number): Promise<Answer> {
    const startedAt = Date.now();
    return new Promise((resolve) => {
        const done = (a: Partial<Answer>) => resolve({ kind, url, startedAt, endedAt: Date.now(), ...a });
        const req = request(url, { agent, timeout: timeoutMs }, (res) => {
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
        for (let c = 0; c < o.clients; c++) {
            const agent = new Agent({ keepAlive: true, maxSockets: 1 });
            this.agents.push(agent);
            const loop = async () => {
                while (this.running) {
                    const began = Date.now();
                    await track(send(agent, "short", `${pick()}/`, o.requestTimeoutMs));
                    await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - began))));
                }
            };
            this.timers.push(setTimeout(() => void loop(), (intervalMs / o.clients) * c));
        }
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
