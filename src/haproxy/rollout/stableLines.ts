/**
 * A stable server's line in the servers file during a rollout: its `weight` word says the step's weight
 * (so a reload keeps the step's share) and its owner comment ends `full-weight <n>`, the weight it comes
 * back to (so a rollout killed halfway still knows it). Back at its full weight, the line is the one its
 * membership wrote.
 */

const WEIGHT_WORD = /(\s)weight\s+(\d+)/;
const FULL_WEIGHT_TAG = /\s+full-weight\s+(\d+)\s*$/;

/** The weight the line's server serves with outside a rollout: its `full-weight` tag, else its `weight` (HAProxy's default 1). */
export function fullWeightOfLine(line: string): number {
    const tag = FULL_WEIGHT_TAG.exec(line);
    if (tag) return Number(tag[1]);
    const word = WEIGHT_WORD.exec(line);
    return word ? Number(word[2]) : 1;
}

/** Whether the line's server is `disabled` (MAINT) after a reload. */
export function isDisabledLine(line: string): boolean {
    return /\sdisabled(\s|$)/.test(line.replace(/#.*$/, ""));
}

/**
 * The line at `weight` for a rollout step, remembering its full weight; at its full weight, the line as
 * its membership wrote it. The line must end with an owner comment.
 */
export function lineAtWeight(line: string, weight: number): string {
    const full = fullWeightOfLine(line);
    const untagged = line.replace(FULL_WEIGHT_TAG, "");
    const weighted = WEIGHT_WORD.test(untagged) ? untagged.replace(WEIGHT_WORD, `$1weight ${weight}`) : untagged.replace(/(\s#)/, ` weight ${weight}$1`);
    return weight === full ? weighted : `${weighted} full-weight ${full}`;
}
