/**
 * `HealthGate`: a resource whose creation waits until every target answers its health check. Resources
 * that depend on it (memberships) are created only after it passed; if it fails, the update stops before
 * anything is attached or drained. Type token: `pulumi-nodejs:dynamic/gate:HealthGate`.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../defaults";
import { ProjectDynamicResource, type InputFields } from "../provider/providerShim";
import type { GateTarget } from "./healthGateProvider";

export interface HealthGateArgs {
    targets: pulumi.Input<pulumi.Input<InputFields<GateTarget>>[]>;
    /** @default 200 */
    expectedStatus?: pulumi.Input<number>;
    /** Longest wait for every target, in ms. @default 120000 */
    timeoutMs?: pulumi.Input<number>;
    /** Pause between two probes of one target, in ms. @default 1000 (the health check's interval) */
    intervalMs?: pulumi.Input<number>;
    /** Consecutive expected answers needed. @default 1 */
    consecutive?: pulumi.Input<number>;
    /** PEM of the CA that signs `https://` targets' certificates. @default Node.js's CA store (and NODE_EXTRA_CA_CERTS) */
    caCertificate?: pulumi.Input<string>;
}

export class HealthGate extends ProjectDynamicResource {
    /** How long the gate waited, in ms. */
    declare readonly passedInMs: pulumi.Output<number>;

    constructor(name: string, args: HealthGateArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "healthGate",
            "gate",
            "HealthGate",
            name,
            {
                targets: args.targets,
                expectedStatus: args.expectedStatus ?? DEFAULTS.healthCheck.expectedStatus,
                timeoutMs: args.timeoutMs ?? DEFAULTS.healthCheck.timeoutMs,
                intervalMs: args.intervalMs ?? DEFAULTS.healthCheck.intervalMs,
                consecutive: args.consecutive ?? DEFAULTS.gate.consecutive,
                ...(args.caCertificate === undefined ? {} : { caCertificate: args.caCertificate }),
                passedInMs: undefined,
            },
            opts,
        );
    }
}
