// The local blue/green deployment (../local-blue-green) in plain JavaScript: no TypeScript, no ts-node.
// Flip: `pulumi config set generation g2 && pulumi up`.
"use strict";
const pulumi = require("@pulumi/pulumi");
const { BlueGreenDeployment, localTarget } = require("haproxy-bluegreen");

const config = new pulumi.Config();
const generation = config.require("generation");
const frontendPorts = config.getObject("frontendPorts") ?? [18080, 18081];
const migrationVersion = config.get("migrationVersion") ?? "0001";

const site = new BlueGreenDeployment("site", {
    generation,
    migrationVersion,
    pool: { size: config.getNumber("size") ?? 2, spec: { appRef: `release-${generation}` } },
    healthCheck: { intervalMs: config.getNumber("healthCheckIntervalMs") ?? 200, rise: 1 },
    haproxy: { drain: { timeoutMs: 120000 } },
    target: localTarget({
        name: "site",
        loadBalancers: frontendPorts.map((frontendPort, i) => ({ name: `lb${i + 1}`, frontendPort })),
    }),
});

exports.activeGeneration = site.activeGeneration;
exports.servers = site.servers;
exports.loadBalancers = site.loadBalancers;
