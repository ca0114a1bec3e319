/**
 * The FrozenGenerations dynamic provider, loaded by the provider shim inside the dynamic-provider host.
 * It keeps, for each generation the stack serves or remembers, the build record (build.ts) the generation
 * was first created with, and refuses in `check` a config that would build one of them differently: a
 * `pulumi preview` or `pulumi up` then fails before any resource changes, naming the fields.
 *
 * Inputs: `builds`, the build record of each generation the program registers now (the serving one and a
 * warm standby); `pinned`, the generations whose record is fixed (what the stack served and remembered at
 * its last update: serving, previous, standby). `check` adds `frozen`, the records after this update: a pinned
 * generation keeps its record; any other generation of `builds` takes its build now, so a generation that
 * never served (a failed flip) can be tried again with other settings. Records of generations neither
 * pinned nor registered are forgotten.
 */
import type * as pulumi from "@pulumi/pulumi";
import { changedFields, settingsPaths, shownValue, type GenerationBuild } from "./build";

type Records = Record<string, GenerationBuild>;

/** The refusal for `generation`, whose record is `before` and whose build now is `after`. */
export function refusal(generation: string, before: GenerationBuild, after: GenerationBuild): string | undefined {
    const fields = changedFields(before, after);
    if (fields.length === 0) return undefined;
    const lines = fields.map((f) => `  ${f} (${settingsPaths(f, generation)}): built with ${shownValue(f, before[f])}, now ${shownValue(f, after[f])}`);
    return (
        `generation ${generation} serves or is remembered for a rollback, and these settings would build it differently:\n${lines.join("\n")}\n` +
        `What a generation is built from is fixed when it is first created (changing it in place would replace serving servers). ` +
        `To deploy the change, set \`generation\` to a new label; to return to ${generation}, restore the settings it was built with; ` +
        `to keep ${generation} as it is while the shared settings change, give it its own under pool.generations.${generation} (and haproxy.generations.${generation}).`
    );
}

/** Whether `generation`'s record in `before` is fixed: it is pinned and was recorded. */
const isFixed = (generation: string, before: Records, pinned: string[]) => pinned.includes(generation) && before[generation] !== undefined;

/** The records after an update whose inputs are `builds` and `pinned`, from the records before. */
export function nextRecords(before: Records, builds: Records, pinned: string[]): Records {
    const kept = Object.entries(before).filter(([g]) => pinned.includes(g));
    const taken = Object.entries(builds).filter(([g]) => !isFixed(g, before, pinned));
    return Object.fromEntries([...kept, ...taken].sort(([a], [b]) => a.localeCompare(b)));
}

const provider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
        const before = (olds.frozen ?? {}) as Records;
        const builds = (news.builds ?? {}) as Records;
        const pinned = (news.pinned ?? []) as string[];
        const reasons = Object.entries(builds).flatMap(([g, build]) => {
            const reason = isFixed(g, before, pinned) ? refusal(g, before[g], build) : undefined;
            return reason ? [reason] : [];
        });
        if (reasons.length > 0) return { inputs: news, failures: reasons.map((reason) => ({ property: "", reason })) };
        return { inputs: { ...news, frozen: nextRecords(before, builds, pinned) } };
    },

    // Only a new or changed record counts: which generations are pinned moves with every flip, and a
    // forgotten record is dropped with the next real change, so a plain `up` after a flip changes nothing.
    async diff(_id, olds, news) {
        const before = (olds.frozen ?? {}) as Records;
        const after = (news.frozen ?? {}) as Records;
        return { changes: Object.entries(after).some(([g, build]) => JSON.stringify(before[g]) !== JSON.stringify(build)) };
    },

    async create(inputs) {
        return { id: "frozen-generations", outs: inputs };
    },

    async update(_id, _olds, news) {
        return { outs: news };
    },
};

export default provider;
