/**
 * Which generations the stack remembers: the one it served before (for rollback) and, with
 * `pool.standby`, the one it keeps running but detached (warm standby), read from the stack's own last
 * outputs. Pure rules, exported for tests; `readLastOutputs` is the only part that talks to the engine.
 */
import * as pulumi from "@pulumi/pulumi";

export interface GenerationHistory {
    /** The generation that served before the current one; what a rollback flips back to. */
    previous?: string;
    /** The generation kept running but detached (only with `pool.standby`). */
    standby?: string;
    /**
     * The serving generation has one resource per server (its memberships, and the local target's app
     * servers), as stacks made before 0.2 do: it keeps them until the next flip (taking them over in place
     * would drain the serving servers). @default false
     */
    perServerResources?: boolean;
}

/** What the last update of this stack recorded. */
export interface LastOutputs {
    activeGeneration?: string;
    previousGeneration?: string;
    standbyGeneration?: string;
    /** `generation` once the stack has one resource per generation (BlueGreenDeployment.resourceLayout); absent in stacks made before. */
    resourceLayout?: string;
}

/**
 * The history after an update to `active`: a flip remembers the generation it leaves; an update that
 * does not flip keeps what was remembered. A generation is never its own previous or standby.
 * `perServerResources` while a stack made before 0.2 has not flipped yet.
 */
export function nextHistory(active: string, last: LastOutputs, standby: boolean): GenerationHistory {
    const flipping = last.activeGeneration !== undefined && last.activeGeneration !== active;
    const previous = flipping ? last.activeGeneration : last.previousGeneration;
    const kept = flipping ? last.activeGeneration : last.standbyGeneration;
    // A stack made before 0.2 keeps its per-server resources until it flips.
    const perServerResources = last.activeGeneration !== undefined && !flipping && last.resourceLayout !== "generation";
    return {
        ...(previous && previous !== active ? { previous } : {}),
        ...(standby && kept && kept !== active ? { standby: kept } : {}),
        ...(perServerResources ? { perServerResources } : {}),
    };
}

/** The stack's own outputs from its last update (empty on the first one). */
export async function readLastOutputs(): Promise<LastOutputs> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    const value = async (name: keyof LastOutputs) => (await self.getOutputDetails(name)).value as string | undefined;
    return {
        activeGeneration: await value("activeGeneration"),
        previousGeneration: await value("previousGeneration"),
        standbyGeneration: await value("standbyGeneration"),
        resourceLayout: await value("resourceLayout"),
    };
}
