/**
 * Test harness: moto's AWS emulator (`moto_server`, moto 5.2.1) on a free loopback port, for the
 * plugin's own Auto Scaling and EC2 calls. Its state lives in the process and goes with it. It does not
 * check request signatures: any credentials are accepted.
 */
import { freePort } from "./ports";
import { requireBinary, startProcess } from "./process";

export const MOTO_SERVER = "moto_server";

export interface RunningMoto {
    /** `http://127.0.0.1:<port>`, the endpoint of every emulated API. */
    readonly endpoint: string;
    /** Stops the process and waits for its exit. */
    stop(): Promise<void>;
}

/** Starts moto_server and waits until it answers HTTP; fails saying how to install it when it cannot run. */
export async function startMoto(): Promise<RunningMoto> {
    try {
        requireBinary(MOTO_SERVER, ["--help"], "bash scripts/setup.sh");
    } catch (err) {
        throw new Error(`${(err as Error).message} (or \`python3 -m pip install 'moto[server]==5.2.1'\`)`);
    }
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const process = await startProcess(MOTO_SERVER, ["-H", "127.0.0.1", "-p", String(port)], async () => (await fetch(`${endpoint}/moto-api/`).catch(() => undefined)) !== undefined);
    return { endpoint, stop: () => process.stop() };
}
