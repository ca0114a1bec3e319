/**
 * Which generations the stack remembers: the one it served before (for rollback) and, with
 * `pool.standby`, the one it keeps running but detached (warm standby), read from the stack's own last
 * outputs. Pure rules, exported for tests; `readLastOutputs` is the only part that talks to the engine.
 */
import * as pulumi from "@pulumi/pulumi";

export interface GenerationHistory {
    /**
     * What the stack served and remembered at its last update (its `activeGeneration`,
     * `previousGeneration` and `standbyGeneration` outputs): these generations' builds are fixed
     * (FrozenGenerations). @default none
     */
    remembered?: string[];
    /** The generation that served before the current one; what a rollback flips back to. */
    previous?: string;
    /** The generation kept running but detached (only with `pool.standby`). */
    standby?: string;
    /**
     * Generations whose resources are one per server (memberships, and the local target's app servers),
     * as stacks made before 0.2 have them. They keep that layout while the stack remembers them (serving,
     * previous or standby): taking a generation's servers over in place would drain them, and a rollback
     * must find them as they are. @default none
     */
    perServerGenerations?: string[];
}

/** What the last update of this stack recorded. */
export interface LastOutputs {
    activeGeneration?: string;
    previousGeneration?: string;
    standbyGeneration?: string;
    /** BlueGreenDeployment.perServerGenerations (possibly empty); absent in stacks made before 0.2. */
    perServerGenerations?: string[];
}

/**
 * The history after an update to `active`: a flip remembers the generation it leaves; an update that
 * does not flip keeps what was remembered. A generation is never its own previous or standby.
 * In a stack made before 0.2, every generation it remembers has one resource per server; such a
 * generation stays in `perServerGenerations` while it is remembered.
 */
export function nextHistory(active: string, last: LastOutputs, standby: boolean): GenerationHistory {
    const flipping = last.activeGeneration !== undefined && last.activeGeneration !== active;
    const previous = flipping ? last.activeGeneration : last.previousGeneration;
    const kept = flipping ? last.activeGeneration : last.standbyGeneration;
    const lastRemembered = [...new Set([last.activeGeneration, last.previousGeneration, last.standbyGeneration].filter((g): g is string => g !== undefined))];
    const history: GenerationHistory = {
        ...(lastRemembered.length > 0 ? { remembered: lastRemembered } : {}),
        ...(previous && previous !== active ? { previous } : {}),
        ...(standby && kept && kept !== active ? { standby: kept } : {}),
    };
    const madeBefore02 = last.activeGeneration !== undefined && last.perServerGenerations === undefined;
    const carried = madeBefore02 ? [last.activeGeneration, last.previousGeneration, last.standbyGeneration] : (last.perServerGenerations ?? []);
    const remembered = [active, history.previous, history.standby];
    const perServerGenerations = [...new Set(carried.filter((g): g is string => g !== undefined && remembered.includes(g)))];
    return perServerGenerations.length > 0 ? { ...history, perServerGenerations } : history;
}

/** The stack's own outputs from its last update (empty on the first one). */
export async function readLastOutputs(): Promise<LastOutputs> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    const value = async (name: keyof LastOutputs) => (await self.getOutputDetails(name)).value as unknown;
    const text = async (name: keyof LastOutputs) => {
        const v = await value(name);
        return typeof v === "string" ? v : undefined;
    };
    const perServer = await value("perServerGenerations");
    return {
        activeGeneration: await text("activeGeneration"),
        previousGeneration: await text("previousGeneration"),
        standbyGeneration: await text("standbyGeneration"),
        ...(Array.isArray(perServer) ? { perServerGenerations: perServer.filter((g): g is string => typeof g === "string") } : {}),
    };
}
