/**
 * The upgrade plan of a `pulumi preview --json`, as short markdown for a pull request: generation from
 * -> to, then the steps in the order `pulumi up` runs them (database snapshot, migration, servers to
 * create with the spec fields that differ from the serving generation, load balancers to attach to, smoke
 * check, load balancers to drain from, servers to terminate), and, flagged loudly at the top, anything
 * else that would be replaced or deleted. With server arrays (aws.autoScaling) it names the Auto Scaling
 * groups: the one created and held at its size, the others held still (step 10), the new one released
 * (step 16), the old one deleted, and a group whose instances changed between flips. Types and generations are read through src/names.ts. Pure:
 * exported for tests.
 */
import { DEFAULTS } from "../../src/defaults";
import { AWS_TYPES, STEP_TYPES, TYPES, generationOf } from "../../src/names";
import { describeRollout, resolveRollout } from "../../src/haproxy/rollout/rolloutSpec";

/** The parts of a preview step this summary reads. */
export interface PreviewStep {
    op: string;
    urn: string;
    oldState?: ResourceState;
    newState?: ResourceState;
}

interface ResourceState {
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    retainOnDelete?: boolean;
}

export interface PreviewJson {
    steps: PreviewStep[];
    config?: Record<string, string>;
}

/** The plan's fields are in the order the steps run. */
export interface UpgradePlan {
    from?: string;
    to?: string;
    snapshots: string[];
    migrations: string[];
    create: { name: string; differences: string[] }[];
    /** Server arrays (aws.autoScaling) at each step. */
    arrays: ArrayPlan;
    attach: string[];
    /** How traffic shifts to the new generation, when in steps (haproxy.rollout). */
    rollout?: string;
    /** Smoke checks of the new generation through the load balancers' frontends. */
    smoke: string[];
    drainFrom: { loadBalancers: string[]; timeoutSeconds?: number; onTimeout?: string };
    terminate: string[];
    /** Replaces and deletes outside the flip: reasons to stop and look. */
    unexpected: string[];
}

/** What happens to the Auto Scaling groups. */
export interface ArrayPlan {
    /** Groups created, held at their size with processes suspended, and their launch template's differences. */
    create: { name: string; size?: number; suspended: string[]; differences: string[] }[];
    /** Step 10: the deployment's other groups held still before the attach. */
    hold?: { name: string; owner: string; keep: string[]; processes: string[] };
    /** Step 16: the new group's processes and bounds back after the smoke check. */
    release?: { name: string; processes: string[]; minSize?: number; maxSize?: number };
    /** Groups whose instances changed since the last update: attach the added, drain then terminate those beyond the desired capacity. */
    rescan: string[];
    /** Groups deleted with their instances after their membership drained. */
    delete: string[];
}

/** Whether a step's resource is of one of `types`. */
const ofType = (types: readonly string[]) => (s: PreviewStep) => types.includes(state(s)?.type ?? "");
/** Fields of a server's inputs that make up its spec, per target (a launch template's too). */
const SPEC_FIELDS = ["appRef", "env", "ami", "imageId", "instanceType", "userData", "tags"];

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const state = (s: PreviewStep) => s.newState ?? s.oldState;
const isDelete = (op: string) => op === "delete" || op === "delete-replaced" || op === "discard";
const isReplace = (op: string) => op === "replace" || op === "create-replacement";

function describeDifference(key: string, before: unknown, after: unknown): string | undefined {
    const a = JSON.stringify(before);
    const b = JSON.stringify(after);
    if (a === b) return undefined;
    if (key === "userData") return "userData (app source, ref or inputs)";
    if (key === "tags") {
        const changed = Object.keys({ ...(before as object), ...(after as object) }).filter(
            (k) => k !== "Name" && k !== "Generation" && JSON.stringify((before as Record<string, unknown>)?.[k]) !== JSON.stringify((after as Record<string, unknown>)?.[k]),
        );
        return changed.length > 0 ? `tags ${changed.join(", ")}` : undefined;
    }
    return `${key}: ${a ?? "(unset)"} -> ${b ?? "(unset)"}`;
}

export function summarizePreview(preview: PreviewJson): UpgradePlan {
    const steps = preview.steps.filter((s) => s.op !== "same" && !state(s)?.type.startsWith("pulumi:providers:"));
    const created = steps.filter((s) => s.op === "create");
    const deleted = steps.filter((s) => isDelete(s.op));
    const servers = (list: PreviewStep[]) => list.filter(ofType(STEP_TYPES.server));
    const memberships = (list: PreviewStep[]) => list.filter(ofType(STEP_TYPES.membership));

    const to = created.map((s) => generationOf(nameOf(s.urn))).find(Boolean) ?? preview.config?.["haproxy-bluegreen:generation"];
    const from = deleted.map((s) => generationOf(nameOf(s.urn))).find(Boolean);
    const serving = servers(deleted)[0]?.oldState?.inputs ?? {};

    const plan: UpgradePlan = {
        from,
        to,
        snapshots: created.filter(ofType(STEP_TYPES.snapshot)).map((s) => nameOf(s.urn)),
        migrations: created.filter(ofType(STEP_TYPES.migration)).map((s) => nameOf(s.urn)),
        create: servers(created).flatMap((s) => {
            const differences = SPEC_FIELDS.map((k) => describeDifference(k, serving[k], s.newState?.inputs?.[k])).filter((d): d is string => !!d);
            return serverNames(s, s.newState).map((name) => ({ name, differences }));
        }),
        arrays: arraysOf(steps, created, deleted),
        attach: [...new Set(memberships(created).flatMap((s) => loadBalancerNames(s.newState?.inputs)))],
        ...rolloutOf(memberships(created)),
        smoke: created.filter((s) => ofType([TYPES.healthGate])(s) && nameOf(s.urn).includes("-smoke-")).map((s) => nameOf(s.urn)),
        drainFrom: drainOf(memberships(deleted)),
        terminate: servers(deleted).flatMap((s) => serverNames(s, s.oldState)),
        unexpected: [],
    };

    for (const s of steps) {
        const name = nameOf(s.urn);
        const type = state(s)?.type ?? "?";
        const gen = generationOf(name);
        if (isReplace(s.op) || s.op === "delete-replaced") {
            // A health gate replaced checks its servers again (a group's instances changed): nothing is lost.
            if (type !== TYPES.healthGate) plan.unexpected.push(`${s.op} ${type} ${name}`);
        } else if (isDelete(s.op) && !(gen !== undefined && gen === from && gen !== to) && !s.oldState?.retainOnDelete && !isFlipBookkeeping(type)) {
            plan.unexpected.push(`delete ${type} ${name}`);
        }
    }
    return plan;
}

/** Components and bookkeeping resources whose deletion destroys nothing (snapshot and migration wrappers). */
function isFlipBookkeeping(type: string): boolean {
    return type === TYPES.snapshot || type === TYPES.migration || STEP_TYPES.migration.includes(type);
}

/** The servers a step creates or deletes: the resource itself, or each name of a batch resource (`<resource>/<server>`). */
function serverNames(step: PreviewStep, resource: ResourceState | undefined): string[] {
    const names = resource?.inputs?.names;
    return Array.isArray(names) ? names.map((n) => `${nameOf(step.urn)}/${String(n)}`) : [nameOf(step.urn)];
}

/** What happens to the Auto Scaling groups, read from the groups, their templates, the hold and the release. */
function arraysOf(steps: PreviewStep[], created: PreviewStep[], deleted: PreviewStep[]): ArrayPlan {
    const inputs = (s: PreviewStep | undefined) => s?.newState?.inputs ?? {};
    const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
    const templates = (list: PreviewStep[]) => list.filter(ofType([AWS_TYPES.launchTemplate]));
    const serving = templates(deleted)[0]?.oldState?.inputs ?? {};
    const differences = SPEC_FIELDS.flatMap((k) => {
        const d = templates(created).map((t) => describeDifference(k, serving[k], t.newState?.inputs?.[k]))[0];
        return d ? [d] : [];
    });
    const hold = created.find(ofType([TYPES.awsScalingHold]));
    const release = created.find(ofType([TYPES.awsScalingRelease]));
    return {
        create: created.filter(ofType(STEP_TYPES.array)).map((s) => {
            const size = inputs(s).desiredCapacity;
            return { name: nameOf(s.urn), ...(typeof size === "number" ? { size } : {}), suspended: strings(inputs(s).suspendedProcesses), differences };
        }),
        ...(hold
            ? { hold: { name: nameOf(hold.urn), owner: String(inputs(hold).owner), keep: strings(inputs(hold).keepGenerations), processes: strings(inputs(hold).processes) } }
            : {}),
        ...(release
            ? {
                  release: {
                      name: nameOf(release.urn),
                      processes: strings(inputs(release).processes),
                      ...(typeof inputs(release).minSize === "number" ? { minSize: inputs(release).minSize as number, maxSize: inputs(release).maxSize as number } : {}),
                  },
              }
            : {}),
        rescan: steps.filter((s) => s.op === "update" && ofType([TYPES.awsGroupInstances])(s)).map((s) => nameOf(s.urn)),
        delete: deleted.filter(ofType(STEP_TYPES.array)).map((s) => nameOf(s.urn)),
    };
}

/** The rollout of the membership created, described; an input the preview cannot read says so. */
function rolloutOf(created: PreviewStep[]): Pick<UpgradePlan, "rollout"> {
    const raw = created.map((s) => s.newState?.inputs?.rollout).find((r) => r !== undefined);
    if (raw === undefined) return {};
    try {
        return { rollout: describeRollout(resolveRollout("rollout", raw)) };
    } catch (err) {
        return { rollout: `(not readable: ${(err as Error).message})` };
    }
}

function loadBalancerNames(inputs: Record<string, unknown> | undefined): string[] {
    const lbs = inputs?.loadBalancers;
    return Array.isArray(lbs) ? lbs.map((lb) => String((lb as { name?: unknown }).name)) : [];
}

function drainOf(deleted: PreviewStep[]): UpgradePlan["drainFrom"] {
    const inputs = deleted[0]?.oldState?.outputs ?? deleted[0]?.oldState?.inputs;
    const drain = inputs?.drain as { timeoutMs?: number; onTimeout?: string } | undefined;
    return {
        loadBalancers: [...new Set(deleted.flatMap((s) => loadBalancerNames(s.oldState?.outputs ?? s.oldState?.inputs)))],
        ...(drain?.timeoutMs !== undefined ? { timeoutSeconds: drain.timeoutMs / 1000 } : {}),
        ...(drain?.onTimeout ? { onTimeout: drain.onTimeout } : {}),
    };
}

const list = (items: string[]) => (items.length > 0 ? items.join(", ") : "none");

export function formatPlan(plan: UpgradePlan): string {
    const lines = [`## Upgrade plan: generation ${plan.from ?? "(none)"} -> ${plan.to ?? "(unchanged)"}`, ""];
    if (plan.unexpected.length > 0) {
        lines.push("> [!CAUTION]", "> **Unexpected replace or delete outside the flip. Do not merge before you understand it:**");
        for (const u of plan.unexpected) lines.push(`> - \`${u}\``);
        lines.push("");
    }
    const drain = plan.drainFrom;
    const limit = drain.timeoutSeconds !== undefined ? ` (drain timeout ${drain.timeoutSeconds} s, then ${drain.onTimeout ?? DEFAULTS.membership.drain.onTimeout})` : "";
    const created = plan.create.map((c) => `   - ${c.name}${c.differences.length ? ` (differs: ${c.differences.join("; ")})` : ""}`);
    const { arrays } = plan;
    const steps = [
        [`**Database snapshot**: ${list(plan.snapshots)}`],
        [`**Migration**: ${list(plan.migrations)}`],
        arrays.create.length > 0
            ? [`**Create ${arrays.create.length} Auto Scaling group${arrays.create.length > 1 ? "s" : ""}** (runbook step 15), each instance passing its health check:`, ...arrays.create.map(describeCreatedGroup)]
            : [`**Create ${plan.create.length} servers**${plan.create.length ? ", each passing its health check:" : ""}`, ...created],
        ...(arrays.hold ? [[describeHold(arrays.hold)]] : []),
        ...(arrays.rescan.length > 0 ? [[`**Group instances changed** since the last update: ${list(arrays.rescan)}; instances added are health-checked and attached, instances beyond the desired capacity are drained, then terminated`]] : []),
        [`**Attach to**: ${list(plan.attach)}${plan.rollout ? `, at weight 0, then traffic in steps: ${plan.rollout}; a failed analysis rolls back on its own` : ""}`],
        [`**Smoke check**: ${list(plan.smoke)}`],
        ...(arrays.release ? [[describeRelease(arrays.release)]] : []),
        [`**Drain from**: ${list(drain.loadBalancers)}${drain.loadBalancers.length ? limit : ""}`],
        arrays.delete.length > 0
            ? [`**Delete ${arrays.delete.length} Auto Scaling group${arrays.delete.length > 1 ? "s" : ""}** with their instances, once drained: ${list(arrays.delete)}`]
            : [`**Terminate ${plan.terminate.length} servers**: ${list(plan.terminate)}`],
    ];
    lines.push("In the order `pulumi up` runs them:", "");
    steps.forEach(([first, ...rest], i) => lines.push(`${i + 1}. ${first}`, ...rest));
    return lines.join("\n");
}

function describeCreatedGroup(group: ArrayPlan["create"][number]): string {
    const size = group.size !== undefined ? `held at ${group.size} instances` : "held at the pool's size";
    const differs = group.differences.length > 0 ? ` (launch template differs: ${group.differences.join("; ")})` : "";
    return `   - ${group.name}: ${size}, ${list(group.suspended)} suspended until its release${differs}`;
}

function describeHold(hold: NonNullable<ArrayPlan["hold"]>): string {
    return `**Hold still** (runbook step 10, ${hold.name}): every group of ${hold.owner} but generation ${hold.keep.join(", ")}: suspend ${list(hold.processes)}`;
}

function describeRelease(release: NonNullable<ArrayPlan["release"]>): string {
    const bounds = release.minSize !== undefined ? `, bounds ${release.minSize} to ${release.maxSize}` : "";
    return `**Release** (runbook step 16, ${release.name}): the new group resumes ${list(release.processes)}${bounds}`;
}
