/**
 * Canaries (runbook step 8): with a canary size N, the first N servers of a new generation are created
 * and must pass a health gate of their own before the rest are created, so a release that does not
 * start costs N servers, not the whole pool. The pool (pool.ts) creates the batches in order.
 */

/** Server indexes in creation batches: the canaries, then the rest; one batch without canaries. */
export function canaryBatches(size: number, canarySize: number): number[][] {
    const all = Array.from({ length: size }, (_, i) => i);
    return canarySize > 0 ? [all.slice(0, canarySize), all.slice(canarySize)] : [all];
}
