/**
 * The soak's seeded randomness: a small PRNG (mulberry32, 32-bit state), so that one seed gives the same
 * faults, moments and load balancers on every machine. Not for anything secret.
 */
import { randomInt } from "node:crypto";

/** Largest seed (seeds are 0..2^32-1). */
export const MAX_SEED = 0xffffffff;

/** A seed for a run given none: random, printed by the soak so that the run can be repeated. */
export function randomSeed(): number {
    return randomInt(0, 2 ** 31);
}

/** Seeded random numbers: the same seed, the same sequence. */
export class SeededRandom {
    private state: number;

    constructor(seed: number) {
        if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new Error(`seed ${seed}: an integer 0..${MAX_SEED}`);
        this.state = seed;
    }

    /** A number in [0, 1) (mulberry32). */
    next(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0;
        let t = this.state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    }

    /** One of `items`. */
    pick<T>(items: readonly T[]): T {
        if (items.length === 0) throw new Error("pick: no items");
        return items[Math.floor(this.next() * items.length)];
    }

    /** `items` in a random order (Fisher-Yates); `items` is left as it is. */
    shuffle<T>(items: readonly T[]): T[] {
        const out = [...items];
        for (let i = out.length - 1; i > 0; i--) {
            const j = Math.floor(this.next() * (i + 1));
            [out[i], out[j]] = [out[j], out[i]];
        }
        return out;
    }
}
