/**
 * A program whose generations are Auto Scaling groups made elsewhere (here: by the test, in moto's
 * emulator), for the end-to-end test of server arrays: a BlueGreenDeployment with `groupArrays` (the
 * group of generation gN is `web-gN`), the local target's database, and load balancers it does not run
 * (lab/haproxy.ts). The emulated instances' private addresses are loopback addresses (the test's VPC is
 * 127.0.0.0/16), where the test runs each instance's app server. Written as the `index.ts` of a scratch
 * project (lab/scratchProject.ts), whose `src/` it imports.
 */
import type { RunningHaproxy } from "./haproxy";
import { sharedLbConfig, useProgram } from "./sharedLbProgram";

const GROUP_ARRAYS_PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import { BlueGreenDeployment } from "./src/deployment";
import { nextHistory, readLastOutputs } from "./src/generationHistory";
import { localTarget } from "./src/targets/local/target";
import { groupArrays } from "./src/targets/aws/scalingGroup/groupArrays";

interface SharedLoadBalancer { name: string; endpoint: string; frontendUrl: string; serversFile: string; backendDefaults: string }

export = async () => {
    const config = new pulumi.Config();
    const generation = config.require("generation");
    const shared = config.requireObject<SharedLoadBalancer[]>("loadBalancers");
    const api = config.requireObject<{ region: string; endpoint: string }>("aws");
    const history = nextHistory(generation, await readLastOutputs(), false);
    const local = localTarget({ name: "site", loadBalancers: [] });
    const site = new BlueGreenDeployment("site", {
        generation,
        migrationVersion: "0001",
        pool: { size: 2, namePrefix: "app", port: config.requireNumber("appPort") },
        healthCheck: { timeoutMs: 20000, intervalMs: 100, rise: 1, fall: 2 },
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
            arrays: groupArrays({
                api,
                owner: config.require("owner"),
                minSize: 1,
                maxSize: 4,
                group: (request) => ({ name: pulumi.output("web-" + request.generation) }),
                discovery: { timeoutMs: 20000, intervalMs: 100 },
            }),
        },
        history,
    });
    return {
        activeGeneration: site.activeGeneration,
        ...(history.previous ? { previousGeneration: history.previous } : {}),
        loadBalancers: site.loadBalancers,
        servers: site.servers,
        backend: "app",
    };
};
`;

/** Config key prefix: the project's name. */
const NAMESPACE = "haproxy-bluegreen";

/** Makes the scratch project at `dir` run GROUP_ARRAYS_PROGRAM. */
export function useGroupArraysProgram(dir: string): void {
    useProgram(dir, GROUP_ARRAYS_PROGRAM);
}

/** The stack config of GROUP_ARRAYS_PROGRAM: SHARED_LB_PROGRAM's, the emulator, the groups' owner tag and the app's port. */
export function groupArraysConfig(args: { generation: string; lbs: RunningHaproxy[]; aws: { region: string; endpoint: string }; owner: string; appPort: number }): Record<string, unknown> {
    return {
        ...sharedLbConfig(args.generation, args.lbs),
        [`${NAMESPACE}:aws`]: args.aws,
        [`${NAMESPACE}:owner`]: args.owner,
        [`${NAMESPACE}:appPort`]: args.appPort,
    };
}
