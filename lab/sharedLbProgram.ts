/**
 * A program of the kind a team writes with the plugin, joined to load balancers that someone else runs,
 * for the end-to-end tests of shared load balancers and SSH key rotation.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningHaproxy } from "./haproxy";

/**
 * A program as a team would write it with the plugin: a BlueGreenDeployment on the local target's
 * servers and database, joined to load balancers it does not run (`loadBalancers` in its config,
 * reached with the `ssh` credentials in its config, a secret, if given). Written as the `index.ts` of a
 * scratch project (lab/scratchProject.ts), whose `src/` it imports.
 */
const SHARED_LB_PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import { BlueGreenDeployment } from "./src/deployment";
import { nextHistory, readLastOutputs } from "./src/generationHistory";
import { localTarget } from "./src/targets/local/target";
import type { SshCredentials } from "./src/haproxy/runtime/transport";

interface SharedLoadBalancer { name: string; endpoint: string; frontendUrl: string; serversFile: string; backendDefaults: string }

export = async () => {
    const config = new pulumi.Config();
    const generation = config.require("generation");
    const shared = config.requireObject<SharedLoadBalancer[]>("loadBalancers");
    const ssh = config.getSecretObject<SshCredentials>("ssh");
    const history = nextHistory(generation, await readLastOutputs(), false);
    const local = localTarget({ name: "site", loadBalancers: [] });
    const site = new BlueGreenDeployment("site", {
        generation,
        migrationVersion: "0001",
        pool: { size: 2, namePrefix: "app", spec: { appRef: "release-" + generation } },
        healthCheck: { timeoutMs: 30000, intervalMs: 100, rise: 1, fall: 2 },
        haproxy: { attachTimeoutMs: 20000, drain: { timeoutMs: 60000, pollIntervalMs: 100, quietPeriodMs: 500 } },
        target: {
            ...local,
            loadBalancers: () => shared.map((lb) => ({
                name: lb.name,
                endpoint: pulumi.output(lb.endpoint),
                frontendUrl: pulumi.output(lb.frontendUrl),
                serversFile: pulumi.output(lb.serversFile),
                backendDefaults: pulumi.output(lb.backendDefaults),
            })),
        },
        history,
        ...(ssh ? { ssh } : {}),
    });
    return {
        activeGeneration: site.activeGeneration,
        ...(history.previous ? { previousGeneration: history.previous } : {}),
        loadBalancers: site.loadBalancers,
        backend: "app",
    };
};
`;

/** Config key prefix: the project's name. */
const NAMESPACE = "haproxy-bluegreen";

/** Makes the scratch project at `dir` run `program` (its own index.ts and a Pulumi.yaml without the repository program's config keys). */
export function useProgram(dir: string, program: string): void {
    writeFileSync(join(dir, "index.ts"), program);
    writeFileSync(join(dir, "Pulumi.yaml"), [`name: ${NAMESPACE}`, "runtime:", "  name: nodejs", "  options:", "    typescript: true", "main: index.ts", ""].join("\n"));
}

/** Makes the scratch project at `dir` run SHARED_LB_PROGRAM. */
export function useSharedLbProgram(dir: string): void {
    useProgram(dir, SHARED_LB_PROGRAM);
}

/** The stack config of SHARED_LB_PROGRAM: `generation` and the load balancers, reached through `endpoint` (default: the admin UNIX socket). */
export function sharedLbConfig(generation: string, lbs: RunningHaproxy[], endpoint = (lb: RunningHaproxy) => lb.unixAdmin): Record<string, unknown> {
    const loadBalancers = lbs.map((lb, i) => ({ name: `lb${i + 1}`, endpoint: endpoint(lb), frontendUrl: lb.frontendUrl, serversFile: lb.serversFile, backendDefaults: lb.backendDefaults }));
    return { [`${NAMESPACE}:generation`]: generation, [`${NAMESPACE}:loadBalancers`]: loadBalancers };
}
