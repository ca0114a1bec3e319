/**
 * Reloads or restarts a load balancer of the local stack the way an operator's tooling does it to a
 * production HAProxy, to see a deployment survive it (src/targets/local/haproxyControl.ts):
 *
 *   npm run lb -- reload          <lb-name> [--stack local]   USR2 to the master (`systemctl reload`)
 *   npm run lb -- seamless-reload <lb-name> [--stack local]   a new master with `-sf <old master>`
 *   npm run lb -- restart         <lb-name> [--stack local]   a new master, then a graceful stop of the old one
 *
 * Each saves `show servers state` into the server-state file first, and returns once a new worker
 * answers and the frontend accepts connections. The load balancer's folder is
 * `<BLUEGREEN_STATE or .bluegreen>/local/<stack>/lb/<lb-name>`.
 */
import { join } from "node:path";
import { validateName } from "../src/haproxy/runtime/validate";
import { reloadLoadBalancer, type ReloadKind } from "../src/targets/local/haproxyControl";
import { localStateDir } from "../src/targets/local/target";
import { PROJECT_ROOT, stackArgument } from "./lib/localStack";

const ACTIONS: Record<string, ReloadKind> = { reload: "master", "seamless-reload": "seamless", restart: "restart" };

const USAGE = "usage: npm run lb -- reload|seamless-reload|restart <lb-name> [--stack local]";

function parseArguments(argv: string[]): { kind: ReloadKind; action: string; name: string; stack: string } {
    const stack = stackArgument(argv);
    const positional: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--stack") i++;
        else if (argv[i].startsWith("-")) throw new Error(`unexpected option ${JSON.stringify(argv[i])}\n${USAGE}`);
        else positional.push(argv[i]);
    }
    const [action, name, ...rest] = positional;
    if (action === undefined || !(action in ACTIONS) || name === undefined || rest.length > 0) throw new Error(USAGE);
    return { kind: ACTIONS[action], action, name: validateName("lb-name", name), stack };
}

async function main(): Promise<void> {
    const { kind, action, name, stack } = parseArguments(process.argv.slice(2));
    const dir = join(localStateDir(stack, process.env, PROJECT_ROOT), "lb", name);
    const started = Date.now();
    const { before, after } = await reloadLoadBalancer(dir, kind);
    console.log(`${action} of load balancer ${name} (stack ${stack}): worker ${before} -> ${after} in ${Date.now() - started} ms`);
    if (kind !== "master") console.log(`the old worker ${before} finishes its requests in flight, then exits`);
}

main().catch((err: Error) => {
    console.error(`lb: ${err.message}`);
    process.exitCode = 1;
});
