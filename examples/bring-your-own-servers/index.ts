/**
 * Servers that come from elsewhere (another team's autoscaling, a VM image pipeline, bare metal), attached
 * to the HAProxy load balancers you already run. Each server is one `Membership`: creating it adds the
 * server on every load balancer and waits until it is UP; removing it drains the server and detaches it.
 *
 * Flip: replace the `servers` list (blue servers out, green servers in) and run `pulumi up`. The engine
 * attaches the new servers first and drains the old ones last, so no request is lost.
 */
import * as pulumi from "@pulumi/pulumi";
import { Membership, type LoadBalancerRef } from "haproxy-bluegreen";

/** One app server: its name in the backend (unique, e.g. `app-green-0`), address and port. */
interface ServerConfig {
    name: string;
    address: string;
    port: number;
}

const config = new pulumi.Config();
/** Runtime API endpoint and servers file of each load balancer (docs/OPERATING.md of haproxy-bluegreen). */
const loadBalancers = config.requireObject<LoadBalancerRef[]>("loadBalancers");
const servers = config.requireObject<ServerConfig[]>("servers");
/** The HAProxy backend the servers join. */
const backend = config.get("backend") ?? "app";
/** Interval of HAProxy's health check of each server, in ms (HAProxy's default: 2000). */
const checkIntervalMs = config.getNumber("checkIntervalMs");

const memberships = servers.map(
    (server) =>
        new Membership(server.name, {
            loadBalancers,
            backend,
            server: server.name,
            address: server.address,
            port: server.port,
            check: { enabled: true, ...(checkIntervalMs ? { inter: checkIntervalMs } : {}) },
            drain: { timeoutMs: 120_000 },
        }),
);

/** Which load balancers have each server. */
export const attached = memberships.map((m) => pulumi.all([m.server, m.attachedTo]).apply(([server, lbs]) => ({ server, loadBalancers: lbs })));
