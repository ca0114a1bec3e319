/**
 * The LocalAppServers provider: all servers of one generation (or one canary batch) of the local target
 * as one resource, each a demo app server process (appServerProcess.ts).
 *
 * - create: starts every server, at most 4 x CPUs at a time; if one fails, stops the others and fails.
 * - diff: a change of the shared settings replaces every server; a change of `names`, or a server whose
 *   process is gone, is an update.
 * - update: starts the servers that are new or gone. The ones no longer named keep running, out of
 *   `servers` and listed as `retiring`, so that their membership (which depends on this resource, and is
 *   updated after it) drains them first; the next update, or the delete, stops them. A server that died
 *   keeps its folder, with the log that tells why.
 * - read: gone when no server runs any more.
 * - delete: stops every server gracefully, all at once.
 */
import type * as pulumi from "@pulumi/pulumi";
import { availableParallelism } from "node:os";
import { RuntimeInputError } from "../../haproxy/runtime/validate";
import { NAME_RULE, SETTINGS_KEYS, SETTINGS_RULES, isAlive, launchAppServer, stopAppServer, type AppServerSettings, type RunningAppServer } from "./appServerProcess";
import { changedKeys, checkFields, listOf, pickInputs, type FieldRule } from "./inputs";
import { progress } from "../../provider/providerLog";

export interface AppServersInputs extends AppServerSettings {
    /** Server names, e.g. `app-g2-0`, unique. */
    names: string[];
}

export interface AppServersOutputs extends AppServersInputs {
    /** The running servers, in the order of `names`. */
    servers: RunningAppServer[];
    /** Servers no longer named, still running until their membership drained them (stopped by the next update). @default none */
    retiring?: RunningAppServer[];
}

/** Most servers one resource runs. */
const MAX_SERVERS = 1000;
/** Servers started at once: as many as the engine would have created at once (its default `--parallel`). */
const STARTS_AT_ONCE = 4 * availableParallelism();

const INPUT_KEYS = ["names", ...SETTINGS_KEYS] as const;

const names: FieldRule = (field, value) => {
    listOf(NAME_RULE)(field, value);
    const list = value as string[];
    if (list.length > MAX_SERVERS) throw new RuntimeInputError(field, `${list.length} names`, `at most ${MAX_SERVERS} names`);
    list.forEach((name, i) => {
        if (list.indexOf(name) !== i) throw new RuntimeInputError(`${field}[${i}]`, name, "a name not used by another server");
    });
    return value;
};

/** Runs `task` on every item, at most `limit` at a time; settles all. */
async function settleLimited<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
    const results: PromiseSettledResult<R>[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < items.length; i = next++) {
            results[i] = await task(items[i]).then(
                (value) => ({ status: "fulfilled", value }) as const,
                (reason: unknown) => ({ status: "rejected", reason }) as const,
            );
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

/** Stops every one of `servers`; a failure is reported, not thrown (the servers it concerns are gone from state anyway). */
async function stopAll(servers: RunningAppServer[]): Promise<void> {
    const settled = await Promise.allSettled(servers.map(stopAppServer));
    settled.forEach((s, i) => {
        if (s.status === "rejected") progress(`app server ${servers[i].name}: stopping failed: ${(s.reason as Error).message}`);
    });
}

/** Starts `toStart`; if any fails, stops the ones that started and throws one error naming each failure. */
async function launchAll(toStart: string[], settings: AppServerSettings): Promise<RunningAppServer[]> {
    const settled = await settleLimited(toStart, STARTS_AT_ONCE, (name) => launchAppServer(name, settings));
    const started = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failures = settled.flatMap((s) => (s.status === "rejected" ? [(s.reason as Error).message] : []));
    if (failures.length === 0) return started;
    await stopAll(started);
    throw new Error(`${failures.length} of ${toStart.length} app servers did not start (the others were stopped):\n  ${failures.join("\n  ")}`);
}

const provider: pulumi.dynamic.ResourceProvider<AppServersInputs, AppServersOutputs> = {
    async check(_olds, news) {
        const failures = checkFields(news, { names, ...SETTINGS_RULES });
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        const replaces = changedKeys<AppServersInputs>(olds, news, SETTINGS_KEYS);
        const dead = olds.servers.filter((s) => !isAlive(s)).map((s) => s.name);
        if (replaces.length === 0 && dead.length > 0) progress(`app servers ${dead.join(", ")}: process gone, to start again`);
        const renamed = changedKeys<AppServersInputs>(olds, news, ["names"]).length > 0;
        const retiring = (olds.retiring ?? []).map((s) => s.name);
        if (replaces.length === 0 && retiring.length > 0) progress(`app servers ${retiring.join(", ")}: left the pool and drained, to stop`);
        return { changes: replaces.length > 0 || renamed || dead.length > 0 || retiring.length > 0, replaces };
    },

    async create(inputs) {
        const servers = await launchAll(inputs.names, inputs);
        return { id: `${servers[0].marker}+${servers.length - 1}`, outs: { ...inputs, servers } };
    },

    async read(id, props) {
        if (!props || !props.servers.some(isAlive)) return {};
        return { id, props, inputs: pickInputs(props, INPUT_KEYS) as AppServersOutputs };
    },

    async update(_id, olds, news) {
        const kept = olds.servers.filter((s) => news.names.includes(s.name) && isAlive(s));
        const started = await launchAll(news.names.filter((n) => !kept.some((s) => s.name === n)), news);
        await stopAll(olds.retiring ?? []);
        const retiring = olds.servers.filter((s) => !news.names.includes(s.name) && isAlive(s));
        if (retiring.length > 0) {
            progress(`app servers ${retiring.map((s) => s.name).join(", ")} left the pool: running until their membership drained them; the next \`pulumi up\` stops them`);
        }
        const byName = new Map([...kept, ...started].map((s) => [s.name, s]));
        return { outs: { ...news, servers: news.names.map((n) => byName.get(n)!), ...(retiring.length > 0 ? { retiring } : {}) } };
    },

    async delete(_id, props) {
        await Promise.all([...props.servers, ...(props.retiring ?? [])].map(stopAppServer));
    },
};

export default provider;
