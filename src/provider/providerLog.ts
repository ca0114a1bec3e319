/**
 * Progress messages from inside a dynamic provider, shown by `pulumi up` as the stack's diagnostics.
 *
 * The dynamic-provider host does not connect `pulumi.log` to the engine, so this sends the engine's
 * `Log` RPC itself, to the engine address the host was started with (its first argument). Outside a
 * provider host (unit tests, benchmarks) messages go to the `sink` given to `setProgressSink`, if any.
 */
type Sink = (message: string) => void;

let sink: Sink | undefined;
let engine: { log(req: unknown, cb: (err: Error | null) => void): void } | undefined;

/** Where messages go when no engine is reachable (tests). @default dropped */
export function setProgressSink(next: Sink | undefined): void {
    sink = next;
}

function engineClient() {
    const address = process.argv[2];
    if (engine || !address || !/^127\.0\.0\.1:\d+$|^localhost:\d+$|^\[::1\]:\d+$/.test(address)) return engine;
    // gRPC as @pulumi/pulumi itself resolves it (not a direct dependency of this project).
    const grpc = require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@pulumi/pulumi")] }));
    const { EngineClient } = require("@pulumi/pulumi/proto/engine_grpc_pb");
    engine = new EngineClient(address, grpc.credentials.createInsecure());
    return engine;
}

/** Logs one progress line (info severity). Never throws: progress must not fail an update. */
export function progress(message: string): void {
    const client = engineClient();
    if (!client) {
        sink?.(message);
        return;
    }
    const { LogRequest, LogSeverity } = require("@pulumi/pulumi/proto/engine_pb");
    const req = new LogRequest();
    req.setSeverity(LogSeverity.INFO);
    req.setMessage(message);
    req.setUrn("");
    req.setStreamid(0);
    req.setEphemeral(false);
    client.log(req, () => undefined);
}
