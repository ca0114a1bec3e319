/**
 * The Prometheus source's settings: checked before any query, errors naming the `rollout.prometheus` field.
 */
import assert from "node:assert/strict";
import { DEFAULTS } from "../../../src/defaults";
import { resolvePrometheusSettings } from "../../../src/haproxy/rollout/prometheusSettings";
import { prometheusSource } from "../../../src/haproxy/rollout/prometheusSource";

const instances = { lb1: "127.0.0.1:8405" };

describe("Prometheus settings", () => {
    it("keeps an http or https URL (a path prefix too, no trailing slash) and applies the default timeout", () => {
        assert.deepEqual(resolvePrometheusSettings({ url: "http://127.0.0.1:9090/", instances }), {
            url: "http://127.0.0.1:9090",
            instances,
            job: undefined,
            timeoutMs: DEFAULTS.rollout.prometheusTimeoutMs,
        });
        assert.equal(resolvePrometheusSettings({ url: "https://mon.example/prometheus", instances, job: "haproxy", timeoutMs: 200 }).url, "https://mon.example/prometheus");
        assert.equal(prometheusSource({ url: "http://127.0.0.1:9090", instances }).description, "Prometheus at http://127.0.0.1:9090");
    });

    it("refuses other URLs, naming rollout.prometheus.url and never echoing a password", () => {
        for (const url of ["ftp://h/", "127.0.0.1:9090", "http://h:9090/?x=1", "http://h/#a", "", 9090]) {
            assert.throws(() => resolvePrometheusSettings({ url: url as string, instances }), /^RuntimeInputError: rollout\.prometheus\.url: .* is not allowed; expected an http:\/\/ or https:\/\/ URL/, String(url));
        }
        assert.throws(() => resolvePrometheusSettings({ url: "http://admin:s3cret@h:9090", instances }), (err: Error) => {
            assert.match(err.message, /^rollout\.prometheus\.url: "http:\/\/admin:\*\*\*@h:9090" is not allowed; .*\(no user name or password in the URL\)$/);
            assert.ok(!err.message.includes("s3cret"));
            return true;
        });
    });

    it("refuses missing instances, control characters in labels and a timeout out of range", () => {
        const url = "http://h:9090";
        assert.throws(() => resolvePrometheusSettings({ url, instances: {} }), /^RuntimeInputError: rollout\.prometheus\.instances: /);
        assert.throws(() => resolvePrometheusSettings({ url, instances: { lb1: "h:1\n" } }), /^RuntimeInputError: rollout\.prometheus\.instances\.lb1: "h:1\\n" is not allowed/);
        assert.throws(() => resolvePrometheusSettings({ url, instances, job: "" }), /^RuntimeInputError: rollout\.prometheus\.job: "" is not allowed/);
        assert.throws(() => resolvePrometheusSettings({ url, instances, timeoutMs: 0 }), /^RuntimeInputError: rollout\.prometheus\.timeoutMs: 0 is not allowed/);
    });

    it("fails a read for a load balancer without an instance before asking Prometheus", async () => {
        const source = prometheusSource({ url: "http://127.0.0.1:1", instances });
        await assert.rejects(source.read("app", ["web1"], ["lb2"]), /^RuntimeInputError: rollout\.prometheus\.instances\.lb2: undefined is not allowed; expected the instance label of load balancer lb2's exporter target$/);
    });
});
