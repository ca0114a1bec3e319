/**
 * A whole blue/green deployment on the local target: HAProxy load balancers and app servers run as
 * processes on this machine (the package's demo app), the database is a PostgreSQL cluster of its own, snapshots are pg_dump files.
 *
 * Flip: `pulumi config set generation g2 && pulumi up`. The new generation's servers are created, pass
 * their health check, join every load balancer and pass the smoke check before the old ones are drained,
 * detached and stopped.
 */
import * as pulumi from "@pulumi/pulumi";
import { BlueGreenDeployment, localTarget } from "haproxy-bluegreen";

const config = new pulumi.Config();
const generation = config.require("generation");
/** Frontend port of each load balancer. */
const frontendPorts = config.getObject<number[]>("frontendPorts") ?? [18080, 18081];
const migrationVersion = config.get("migrationVersion") ?? "0001";

const site = new BlueGreenDeployment("site", {
    generation,
    migrationVersion,
    pool: { size: config.getNumber("size") ?? 2, spec: { appRef: `release-${generation}` } },
    healthCheck: { intervalMs: config.getNumber("healthCheckIntervalMs") ?? 200, rise: 1 },
    haproxy: { drain: { timeoutMs: 120_000 } },
    target: localTarget({
        name: "site",
        loadBalancers: frontendPorts.map((frontendPort, i) => ({ name: `lb${i + 1}`, frontendPort })),
    }),
});

export const activeGeneration = site.activeGeneration;
export const servers = site.servers;
export const loadBalancers = site.loadBalancers;
