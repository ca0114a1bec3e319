/**
 * Temporary folders that hold a local target's state. The local target runs PostgreSQL as the
 * `postgres` user (it refuses root), which must get through every folder above its data folder, so
 * these are made 0711 (enter, not list) instead of mkdtemp's 0700.
 */
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A new folder in the system temp dir, named `<prefix><random>`, passable for the postgres user. */
export function stateFolder(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(dir, 0o711);
    return dir;
}
