/**
 * Strict Pulumi mocks for unit tests of what cannot run here (AWS).
 *
 * `useStrictMocks` installs `pulumi.runtime.setMocks` with a `newResource` that knows only the type
 * tokens a test lists and throws `Mock not implemented: <token>` for any other. A `Recorder` keeps every
 * resource as the engine would receive it: type, name, inputs, and the facts the resource options turn
 * into (parent, dependencies, retainOnDelete, protect, deletedWith). Mocks are not given the options, and
 * `registerResourceTransform` throws under mocks (they do not support transforms), so the recorder
 * reads the RegisterResource request itself, by wrapping the mock monitor's `registerResource`.
 *
 * The mocks are global to the process: call `useStrictMocks` at the start of every program a test
 * builds, `programDone` before asserting, and `restoreRuntime` in an `after` hook.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";

/** One registered resource, as the engine would receive it. */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    /** Inputs as the mocks see them: a value holding a secret is `{ [specialSigKey]: specialSecretSig, value }`. */
    inputs: Record<string, unknown>;
    /** Inputs exactly as serialized for the engine: secrets stay wrapped where they are. */
    wire: Record<string, unknown>;
    /** URN of the parent; "" for none. */
    parent: string;
    /** URNs of every dependency: `dependsOn` (components expanded to their resources) and property dependencies. */
    dependencies: string[];
    retainOnDelete: boolean;
    /** The explicit protect flag, if one was sent (unset: the engine inherits the parent's). */
    protect?: boolean;
    /** URN of the `deletedWith` resource; "" for none. */
    deletedWith: string;
}

/** Outputs of one custom resource type, from its inputs; the id is always `<name>-id`. */
export type MockOutputs = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;

/** Outputs that are the inputs (a resource that computes nothing the program reads). */
export const inputsAsOutputs: MockOutputs = (args) => args.inputs;

export interface StrictMocksOptions {
    /** Custom resource types the program may register, with their outputs. */
    customs: Record<string, MockOutputs>;
    /** Component resource types the program may register. */
    components: readonly string[];
    /** @default "stack" */
    stack?: string;
}

export class Recorder {
    readonly resources: RecordedResource[] = [];
    /** Rejects at the first error of the mocks (an unknown token); a failed registration leaves its dependents waiting forever. */
    readonly refused: Promise<never>;
    private reject!: (err: Error) => void;

    constructor() {
        this.refused = new Promise<never>((_, reject) => (this.reject = reject));
        this.refused.catch(() => undefined);
    }

    /** Records an error of the mocks and returns it. */
    refuse(err: Error): Error {
        this.reject(new Error(`the mocks refused the program: ${err.message}`));
        return err;
    }

    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    byName(name: string): RecordedResource {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
        return found[0];
    }

    byUrn(urn: string): RecordedResource {
        const found = this.resources.find((r) => r.urn === urn);
        if (!found) throw new Error(`no resource has the URN ${urn}`);
        return found;
    }

    /** Whether `from` waits for `on` through a chain of dependencies (not through parents). */
    dependsOn(from: RecordedResource, on: RecordedResource): boolean {
        const seen = new Set<string>();
        const queue = [...from.dependencies];
        while (queue.length > 0) {
            const urn = queue.shift() as string;
            if (urn === on.urn) return true;
            if (seen.has(urn)) continue;
            seen.add(urn);
            queue.push(...this.byUrn(urn).dependencies);
        }
        return false;
    }
}

/** The resource monitor surface the recorder wraps. */
interface MonitorWithRegister {
    registerResource(req: RegisterResourceRequest, callback: (err: Error | null, resp?: RegisterResourceResponse) => void): void;
}

/** Installs fresh strict mocks (resetting the runtime's state) and returns their recorder. */
export async function useStrictMocks(options: StrictMocksOptions): Promise<Recorder> {
    const recorder = new Recorder();
    const newResource = (args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult => {
        const outputs = options.customs[args.type];
        if (args.custom && outputs) return { id: `${args.name}-id`, state: outputs(args) };
        if (!args.custom && options.components.includes(args.type)) return { id: undefined, state: {} };
        throw new Error(`Mock not implemented: ${args.type}`);
    };
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                try {
                    return newResource(args);
                } catch (err) {
                    throw recorder.refuse(err as Error);
                }
            },
            call: (args) => {
                throw recorder.refuse(new Error(`Mock not implemented: ${args.token}`));
            },
        },
        "project",
        options.stack ?? "stack",
        false,
        "organization",
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as MonitorWithRegister;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) =>
        register(req, (err, resp) => {
            if (!err && resp) recorder.resources.push(record(req, resp.getUrn()));
            callback(err, resp);
        });
    return recorder;
}

/** What the engine receives in one RegisterResource request. */
function record(req: RegisterResourceRequest, urn: string): RecordedResource {
    const object = req.getObject();
    const propertyDependencies = [...req.getPropertydependenciesMap().entries()].flatMap(([, deps]) => deps.getUrnsList());
    return {
        urn,
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        inputs: object ? pulumi.runtime.deserializeProperties(object) : {},
        wire: (object?.toJavaScript() ?? {}) as Record<string, unknown>,
        parent: req.getParent(),
        dependencies: [...new Set([...req.getDependenciesList(), ...propertyDependencies])],
        retainOnDelete: req.getRetainondelete() === true,
        protect: req.hasProtect() ? req.getProtect() : undefined,
        deletedWith: req.getDeletedwith(),
    };
}

/**
 * Waits until every registration of the program has finished (the runtime's RPC queue drained), or
 * fails at the first error of the mocks. `disconnect` only waits and drops the RPC clients; the mock
 * monitor itself stays in the settings until the next `useStrictMocks` or `restoreRuntime`.
 */
export async function programDone(recorder: Recorder): Promise<void> {
    await Promise.race([pulumi.runtime.disconnect(), recorder.refused]);
}

/** Leaves the runtime as a process without a Pulumi engine has it, for the test files that follow. */
export function restoreRuntime(): void {
    pulumi.runtime.resetOptions("", "", -1, "", "", false, "");
}

/** The value of an output, once known. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

/** Whether a value as the mocks see it is a secret. */
export function isSecretInput(value: unknown): boolean {
    return pulumi.runtime.isRpcSecret(value);
}

/** A secret's value as the mocks see it. */
export function secretValue(value: unknown): unknown {
    if (!isSecretInput(value)) throw new Error(`not a secret: ${JSON.stringify(value)}`);
    return (value as { value: unknown }).value;
}

/** Paths in a serialized value where `text` occurs outside a secret (a leak). */
export function plaintextPaths(value: unknown, text: string, path = "$"): string[] {
    if (typeof value === "string") return value.includes(text) ? [path] : [];
    if (value === null || typeof value !== "object") return [];
    if (pulumi.runtime.isRpcSecret(value)) return [];
    return Object.entries(value).flatMap(([key, inner]) => plaintextPaths(inner, text, `${path}.${key}`));
}
