/**
 * The runbook's way to drain (step 12): remove the server's health-check file so that HAProxy's check
 * fails, which stops new sessions while the current ones finish.
 */
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** Removes the health-check file given as `file:///abs/path`; a file already gone counts as removed. */
export async function removeHealthFile(url: string): Promise<void> {
    await rm(fileURLToPath(url), { force: true });
}
