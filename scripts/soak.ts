/**
 * The seeded soak (`npm run soak -- --flips N --seed S`, through scripts/soak.sh): a scratch copy of the
 * program (lab/scratchProject.ts) on the local target with three load balancers with cookie persistence,
 * brought up at g1, then flipped N times (g1 -> g2 -> g3 ...) under continuous load (keep-alive short
 * requests, long requests, sticky clients) with one seeded fault per flip (scripts/lib/soakFaults.ts).
 * Prints the seed first, one line per flip, then a summary, and exits 1 if a request or a flip failed,
 * the last generation is not exactly UP on every load balancer, `pulumi preview --expect-no-changes` is
 * not clean, or a process it started is still running afterwards (lab/strayProcesses.ts, in the run's
 * own TMPDIR, `BLUEGREEN_RUN_TMP`, which scripts/soak.sh makes).
 *
 * Options: --flips N (default 4: one of each fault kind), --seed S (0..2^32-1; default a random one).
 */
import { join } from "node:path";
import { endStrays } from "../lab/strayProcesses";
import { freePort } from "../lab/ports";
import { scratchProject } from "../lab/scratchProject";
import { serverName } from "../src/names";
import { runningHaproxyVersion } from "../src/targets/local/haproxyBinary";
import { deployedState, membershipOf, nextGeneration } from "./lib/flip";
import { planFaults } from "./lib/soakFaults";
import { faultyFlip } from "./lib/soakFlip";
import { SeededRandom, MAX_SEED, randomSeed } from "./lib/soakRandom";
import { flipLine, flipProblem, lastLines, membershipProblem, soakPassed, summaryLines, type SoakOutcome } from "./lib/soakReport";

/** Flips of a run given no `--flips`: one of each fault kind. */
const DEFAULT_FLIPS = 4;
/** The scratch stack, and the names the program gives (index.ts, src/defaults.ts). */
const STACK = "soak";
const DEPLOYMENT = "site";
const NAME_PREFIX = "app";
const POOL_SIZE = 2;
const LOAD_BALANCERS = ["lb1", "lb2", "lb3"];
/** The load during every flip: 60 short requests/s on 4 keep-alive clients, a 4 s request every second, 3 sticky clients (15 requests/s each, sessions of 10). */
const LOAD = { ratePerSecond: 60, clients: 4, longRequestMs: 4000, longEveryMs: 1000, stickyClients: 3, stickySessionRequests: 10 };
/** Traffic before each flip's update (and its between-flips fault), in ms. */
const WARMUP_MS = 1500;

/** The server names of `generation` (`app-g8-0`, `app-g8-1`). */
function serversOf(generation: string): string[] {
    return Array.from({ length: POOL_SIZE }, (_, n) => serverName(NAME_PREFIX, generation, n));
}

/** `--flips N --seed S` from `argv`; throws on anything else. */
function parseArgs(argv: string[]): { flips: number; seed: number } {
    const values: Record<string, number> = {};
    for (let i = 0; i < argv.length; i += 2) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (flag !== "--flips" && flag !== "--seed") throw new Error(`unknown argument ${flag}: usage: npm run soak -- [--flips N] [--seed S]`);
        if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${flag} needs a whole number, got ${value}`);
        values[flag] = Number(value);
    }
    const flips = values["--flips"] ?? DEFAULT_FLIPS;
    const seed = values["--seed"] ?? randomSeed();
    if (flips < 1) throw new Error("--flips must be 1 or more");
    if (seed > MAX_SEED) throw new Error(`--seed must be 0..${MAX_SEED}`);
    return { flips, seed };
}

async function main(): Promise<number> {
    const runTmp = process.env.BLUEGREEN_RUN_TMP;
    if (!runTmp || process.env.TMPDIR !== runTmp) throw new Error("run the soak with `npm run soak` (scripts/soak.sh gives it a TMPDIR of its own)");
    const { flips, seed } = parseArgs(process.argv.slice(2));
    const haproxy = runningHaproxyVersion();
    console.log(`soak: seed ${seed}, ${flips} flips, HAProxy ${haproxy} (again: npm run soak -- --flips ${flips} --seed ${seed})`);
    const faults = planFaults(new SeededRandom(seed), flips, LOAD_BALANCERS);
    const p = await scratchProject(STACK, POOL_SIZE);
    const outcome: SoakOutcome = { seed, flips, haproxy, requests: 0, failedRequests: 0, failedFlips: [], membership: [], strays: [] };
    try {
        const loadBalancers = await Promise.all(LOAD_BALANCERS.map(async (name) => ({ name, frontendPort: await freePort() })));
        await p.setConfig("haproxy", { loadBalancers, serverOptions: { cookie: true }, attachTimeoutSeconds: 30, drain: { timeoutSeconds: 60, pollIntervalMs: 100 } });
        // The newest schema from the start: g2's spec needs 0002 (lab/scratchProject.ts), later generations use the shared spec.
        await p.setConfig("database", { migration: { version: "0002" } });
        const began = Date.now();
        await p.stack.up();
        const state = await deployedState(p.stack);
        console.log(`soak: g1 up behind ${LOAD_BALANCERS.join(", ")} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
        const endpoints = new Map(state.loadBalancers.map((lb) => [lb.name, lb.endpoint]));
        let from = state.generation ?? "g1";
        for (const [i, fault] of faults.entries()) {
            const to = nextGeneration(from);
            const flip = await faultyFlip(fault, {
                project: p,
                watch: { deployment: DEPLOYMENT, to, from, endpoint: endpoints.get(fault.lb)!, backend: state.backend, namePrefix: NAME_PREFIX },
                lbFolder: join(p.stateDir, "local", STACK, "lb"),
                traffic: LOAD,
                warmupMs: WARMUP_MS,
            });
            const problem = flipProblem(flip, serversOf(to));
            const line = flipLine(i + 1, flips, fault, flip, problem);
            console.log(line);
            outcome.requests += flip.run.traffic.total;
            outcome.failedRequests += flip.run.traffic.failed.length;
            if (problem !== undefined) outcome.failedFlips.push(line);
            if (flip.run.error) break; // the stack did not converge: the next flips would only repeat it
            from = to;
        }
        outcome.membership = await membershipOf(state.loadBalancers, state.backend);
        outcome.membershipProblem = membershipProblem(outcome.membership, serversOf(from));
        outcome.previewProblem = await p.stack.preview({ expectNoChanges: true }).then(
            () => undefined,
            (err: Error) => lastLines(err.message, 3),
        );
    } finally {
        await p.dispose();
        outcome.strays = await endStrays(runTmp);
    }
    for (const line of summaryLines(outcome)) console.log(line);
    return soakPassed(outcome) ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(`soak failed: ${(err as Error).stack ?? err}`);
        process.exit(1);
    },
);
