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
}

/** What the last update of this stack recorded. */
export interface LastOutputs {
    activeGeneration?: string;
    previousGeneration?: string;
    standbyGeneration?: string;
}

/**
 * The history after an update to `active`: a flip remembers the generation it leaves; an update that
 * does not flip keeps what was remembered. A generation is never its own previous or standby.
 */
export function nextHistory(active: string, last: LastOutputs, standby: boolean): GenerationHistory {
    const flipping = last.activeGeneration !== undefined && last.activeGeneration !== active;
    const previous = flipping ? last.activeGeneration : last.previousGeneration;
    const kept = flipping ? last.activeGeneration : last.standbyGeneration;
    const lastRemembered = [...new Set([last.activeGeneration, last.previousGeneration, last.standbyGeneration].filter((g): g is string => g !== undefined))];
    return {
        ...(lastRemembered.length > 0 ? { remembered: lastRemembered } : {}),
        ...(previous && previous !== active ? { previous } : {}),
        ...(standby && kept && kept !== active ? { standby: kept } : {}),
    };
}

/** The stack's own outputs from its last update (empty on the first one). */
export async function readLastOutputs(): Promise<LastOutputs> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    const text = async (name: keyof LastOutputs) => {
        const v = (await self.getOutputDetails(name)).value as unknown;
        return typeof v === "string" ? v : undefined;
    };
    return {
        activeGeneration: await text("activeGeneration"),
        previousGeneration: await text("previousGeneration"),
        standbyGeneration: await text("standbyGeneration"),
    };
}
