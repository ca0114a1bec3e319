/**
 * What a generation is built from (runbook steps 5-6: "inputs defined at the Deployment level only
 * affect new servers that are launched; the original application servers keep their inputs"), as a flat
 * record of named fields: the server spec (`image`, `instanceType`, `appRepository`, `appRef`, each of
 * `inputs.<NAME>`), the app's `port`, each of `serverOptions.<option>` and the health check
 * (`healthCheck.path`, `.intervalMs`, `.rise`, `.fall`). Pure, exported for tests.
 *
 * Input values may be secrets, so they are recorded as digests, never as they are; the other fields are
 * recorded as they are, so that a refusal can say what a generation was built with.
 */
import { createHash } from "node:crypto";
import { planMembership, planPool, resolveHealthCheck, type DeploymentSettings } from "../plan";

/** Field name -> recorded value. */
export type GenerationBuild = Record<string, string>;

const SPEC_FIELDS = ["image", "instanceType", "appRepository", "appRef"] as const;

/** The build record of `generation` under `settings`. */
export function generationBuild(settings: DeploymentSettings, generation: string): GenerationBuild {
    const pool = planPool("", generation, settings.pool, settings.healthCheck);
    const spec = pool.servers[0]?.spec ?? {};
    const healthCheck = resolveHealthCheck(settings.healthCheck);
    const options = planMembership(settings, generation).options as Record<string, unknown>;
    const build: GenerationBuild = {};
    for (const field of SPEC_FIELDS) {
        if (spec[field] !== undefined) build[field] = spec[field];
    }
    for (const [name, value] of Object.entries(spec.inputs ?? {})) build[`inputs.${name}`] = inputDigest(generation, name, value);
    build.port = String(pool.port);
    for (const [option, value] of Object.entries(options)) {
        if (value !== undefined) build[`serverOptions.${option}`] = JSON.stringify(value);
    }
    build["healthCheck.path"] = healthCheck.path;
    build["healthCheck.intervalMs"] = String(healthCheck.intervalMs);
    build["healthCheck.rise"] = String(healthCheck.rise);
    build["healthCheck.fall"] = String(healthCheck.fall);
    return build;
}

/** The fields whose recorded values differ between `before` and `after` (added and removed ones too), sorted. */
export function changedFields(before: GenerationBuild, after: GenerationBuild): string[] {
    const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...fields].filter((f) => before[f] !== after[f]).sort();
}

/** Where a build field comes from in the deployment's settings (and so in the program's stack config). */
export function settingsPaths(field: string, generation: string): string {
    const [head, ...rest] = field.split(".");
    const tail = rest.length > 0 ? `.${rest.join(".")}` : "";
    if (head === "port") return "pool.port";
    if (head === "healthCheck") return field;
    if (head === "serverOptions") return `haproxy.serverOptions${tail} or haproxy.generations.${generation}.serverOptions${tail}`;
    return `pool.spec.${field} or pool.generations.${generation}.${field}`;
}

/** What a build record shows of one field's value: inputs are digests, so their values are not shown. */
export function shownValue(field: string, value: string | undefined): string {
    if (value === undefined) return "(unset)";
    return field.startsWith("inputs.") ? "(a value not shown)" : JSON.stringify(value);
}

function inputDigest(generation: string, name: string, value: string): string {
    return `sha256:${createHash("sha256").update(`${generation}\0${name}\0${value}`).digest("hex")}`;
}
