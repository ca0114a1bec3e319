/**
 * Free loopback TCP ports for test processes.
 */
import { createServer } from "node:net";

/**
 * A TCP port that was free on 127.0.0.1 a moment ago (the kernel picks it; the probe socket is
 * closed before returning, so a process started right after can bind it).
 */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = createServer();
        probe.once("error", reject);
        probe.listen(0, "127.0.0.1", () => {
            const address = probe.address();
            if (address === null || typeof address === "string") {
                probe.close();
                return reject(new Error("could not read the port of a loopback probe socket"));
            }
            probe.close(() => resolve(address.port));
        });
    });
}
