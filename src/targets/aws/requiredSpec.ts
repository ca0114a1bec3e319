/** A spec value the aws target needs; the program's config check requires it, a missing one names the key. */
export function required(value: string | undefined, key: string): string {
    if (value === undefined) throw new Error(`${key} is required on the aws target`);
    return value;
}
