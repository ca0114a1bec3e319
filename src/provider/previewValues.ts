/**
 * During preview, values that are not known yet reach dynamic providers' `check` and `diff` as this
 * marker string. Providers must cope with it and must not contact anything while it is present.
 */

/** How preview marks values that are not known yet. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Whether `value` or anything inside it is still unknown. */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}
