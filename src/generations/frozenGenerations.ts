/**
 * `FrozenGenerations` (runbook steps 5-6: the deployment's inputs are saved before they change, and the
 * servers already running keep theirs): the record of what each generation the stack serves or remembers
 * was built from. A config that would build one of them differently is refused before anything changes
 * (frozenGenerationsProvider.ts). One per deployment, created first; everything else waits for it.
 * Type token: `pulumi-nodejs:dynamic/generations:FrozenGenerations`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ProjectDynamicResource } from "../provider/providerShim";
import type { GenerationBuild } from "./build";

export interface FrozenGenerationsArgs {
    /** The build record of each generation the program registers now (build.ts `generationBuild`). */
    builds: Record<string, GenerationBuild>;
    /** The generations whose record is fixed: what the stack served and remembered at its last update (serving, previous, standby). */
    pinned: string[];
}

export class FrozenGenerations extends ProjectDynamicResource {
    /** The records after this update, by generation. */
    declare readonly frozen: pulumi.Output<Record<string, GenerationBuild>>;

    constructor(name: string, args: FrozenGenerationsArgs, opts?: pulumi.CustomResourceOptions) {
        super("frozenGenerations", "generations", "FrozenGenerations", name, { ...args, frozen: undefined }, opts);
    }
}
