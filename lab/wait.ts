/**
 * Bounded polling for tests.
 */

/** Options of `waitFor`. */
export interface WaitOptions {
    /** What is awaited, for the timeout message. */
    what: string;
    /** Give up after this long. @default 10000 */
    timeoutMs?: number;
    /** Pause between attempts. @default 50 */
    intervalMs?: number;
}

/**
 * Calls `probe` until it returns a value other than `undefined` and returns that value; fails after
 * the timeout with `what` and the last error `probe` threw, if any.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, options: WaitOptions): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let lastError: unknown;
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined) return value;
        } catch (err) {
            lastError = err;
        }
        if (Date.now() >= deadline) {
            const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : "";
            throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${options.what}${cause}`);
        }
        await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
    }
}
