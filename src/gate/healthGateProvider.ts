/**
 * The HealthGate provider: waits until every target URL answers the expected HTTP status
 * `consecutive` times in a row (runbook steps 7 and 9 for servers, 17 for load balancer frontends).
 * Creating it is the test; deleting it does nothing. Any input change replaces it, so a new set of
 * servers is always tested again.
 */
import type * as pulumi from "@pulumi/pulumi";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { progress } from "../provider/providerLog";
import { containsUnknown } from "../provider/previewValues";

export interface GateTarget {
    /** Shown in progress and errors, e.g. a server name. */
    name: string;
    /** `http://host:port/path` or `https://host:port/path` (certificate verified) */
    url: string;
}

export interface HealthGateSpec {
    targets: GateTarget[];
    /** @default 200 */
    expectedStatus: number;
    /** Longest wait for every target, in ms. @default 120000 */
    timeoutMs: number;
    /** Pause between two probes of one target, in ms. @default 1000 (the health check's interval) */
    intervalMs: number;
    /** Consecutive expected answers needed. @default 1 */
    consecutive: number;
    /** PEM of the CA that signs `https://` targets' certificates. @default Node.js's CA store (and NODE_EXTRA_CA_CERTS) */
    caCertificate?: string;
}

/** Time allowed for one probe, in ms. */
const PROBE_TIMEOUT_MS = 5000;

/** One GET over http or https (`ca`: the CA that signs the server's certificate); resolves with the status code or a short error text. Never rejects. */
export function probe(url: string, ca?: string): Promise<number | string> {
    return new Promise((resolve) => {
        const tls = url.startsWith("https:");
        const request = tls ? httpsRequest : httpRequest;
        const req = request(url, { method: "GET", agent: false, timeout: PROBE_TIMEOUT_MS, ...(tls && ca ? { ca } : {}) }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
        req.on("error", (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
        req.end();
    });
}

/** Waits for one target; throws with its last answer at the deadline. */
async function waitFor(target: GateTarget, spec: HealthGateSpec, deadline: number): Promise<void> {
    let streak = 0;
    let last: number | string = "no answer yet";
    for (;;) {
        last = await probe(target.url, spec.caCertificate);
        streak = last === spec.expectedStatus ? streak + 1 : 0;
        if (streak >= spec.consecutive) return;
        if (Date.now() >= deadline) {
            throw new Error(`${target.name}: ${target.url} did not answer ${spec.expectedStatus} within ${spec.timeoutMs} ms (last answer: ${last})`);
        }
        await sleep(spec.intervalMs);
    }
}

/** Validates the gate's inputs; returns the first problem as { property, reason }. Exported for tests. */
export function gateProblem(inputs: Record<string, unknown>): { property: string; reason: string } | undefined {
    const targets = inputs.targets;
    if (!Array.isArray(targets) || targets.length === 0) return { property: "targets", reason: "a non-empty list of { name, url }" };
    for (const [i, t] of targets.entries()) {
        if (typeof t?.url !== "string" || !/^https?:\/\/[A-Za-z0-9.\-[\]:]+(:\d+)?\/[^\s]*$/.test(t.url)) {
            return { property: `targets[${i}].url`, reason: `${JSON.stringify(t?.url)} is not an http:// or https:// URL with a path` };
        }
    }
    const ca = inputs.caCertificate;
    if (ca !== undefined && (typeof ca !== "string" || !ca.includes("-----BEGIN CERTIFICATE-----"))) {
        return { property: "caCertificate", reason: "a PEM certificate (-----BEGIN CERTIFICATE-----)" };
    }
    const numbers: [keyof HealthGateSpec, number, number][] = [["expectedStatus", 100, 599], ["timeoutMs", 1, 86_400_000], ["intervalMs", 10, 60_000], ["consecutive", 1, 100]];
    for (const [key, min, max] of numbers) {
        const v = inputs[key];
        if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
            return { property: key, reason: `${JSON.stringify(v)} is not a whole number from ${min} to ${max}` };
        }
    }
    return undefined;
}

const provider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        if (containsUnknown(news)) return { inputs: news };
        const problem = gateProblem(news);
        return { inputs: news, failures: problem ? [problem] : [] };
    },
    async diff(_id, olds, news) {
        const keys = ["targets", "expectedStatus", "timeoutMs", "intervalMs", "consecutive", "caCertificate"];
        const replaces = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes: replaces.length > 0, replaces };
    },
    async create(inputs) {
        const spec = inputs as HealthGateSpec;
        const started = Date.now();
        const deadline = started + spec.timeoutMs;
        const results = await Promise.allSettled(spec.targets.map((t) => waitFor(t, spec, deadline)));
        const failed = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
        if (failed.length > 0) {
            throw new Error(`health gate failed for ${failed.length} of ${spec.targets.length}:\n  ${failed.join("\n  ")}`);
        }
        const passedInMs = Date.now() - started;
        progress(`health gate passed: ${spec.targets.map((t) => t.name).join(", ")} in ${passedInMs} ms`);
        return { id: `gate-${started}`, outs: { ...spec, passedInMs } };
    },
    async read(id, props) {
        return { id, props, inputs: props };
    },
    async delete() {
        // Nothing to undo: the gate only observed.
    },
};

export default provider;
