/**
 * The local volume on temporary folders: initialization, snapshots as complete independent copies, and
 * restores that replace the volume's contents.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATABASE_FILE, emptyDatabase, migrateFile, readDatabase } from "../../../app/database";
import { initVolume, restoreSnapshot, snapshotVolume } from "../../../src/targets/local/volume";

describe("local volume", () => {
    let root: string;
    let volume: string;
    let snapshots: string;

    beforeEach(() => {
        root = mkdtempSync(join(tmpdir(), "bluegreen-volume-"));
        volume = join(root, "volume");
        snapshots = join(root, "snapshots");
    });

    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it("initVolume creates an empty database once and keeps an existing one", async () => {
        assert.equal(await initVolume(volume), true);
        assert.deepEqual(readDatabase(join(volume, DATABASE_FILE)), emptyDatabase());
        migrateFile(join(volume, DATABASE_FILE), "0001");
        assert.equal(await initVolume(volume), false);
        assert.deepEqual(readDatabase(join(volume, DATABASE_FILE)).schemaVersion, ["0001"]);
    });

    it("snapshotVolume copies the whole folder, without temporary entries, under <label>-<timestamp>", async () => {
        await initVolume(volume);
        mkdirSync(join(volume, "blobs"));
        writeFileSync(join(volume, "blobs", "a.bin"), Buffer.alloc(1000, 1));
        writeFileSync(join(volume, ".tmp-half-written"), "x");
        const snapshot = await snapshotVolume(volume, snapshots, "0002-add");
        assert.match(snapshot.id, /^0002-add-\d{8}T\d{9}Z$/);
        assert.equal(snapshot.path, join(snapshots, snapshot.id));
        assert.deepEqual(readdirSync(snapshot.path).sort(), ["blobs", DATABASE_FILE]);
        assert.equal(snapshot.bytes, 1000 + readFileSync(join(volume, DATABASE_FILE)).length);
        assert.deepEqual(readdirSync(snapshots), [snapshot.id], "no temporary folder is left");
    });

    it("a snapshot is independent of later changes to the volume", async () => {
        await initVolume(volume);
        const snapshot = await snapshotVolume(volume, snapshots, "0001");
        migrateFile(join(volume, DATABASE_FILE), "0001");
        assert.deepEqual(readDatabase(join(snapshot.path, DATABASE_FILE)), emptyDatabase());
    });

    it("gives two snapshots with the same label distinct ids", async () => {
        await initVolume(volume);
        const ids = new Set<string>();
        for (let i = 0; i < 5; i++) ids.add((await snapshotVolume(volume, snapshots, "same")).id);
        assert.equal(ids.size, 5);
    });

    it("refuses labels that are not plain names and volumes that do not exist", async () => {
        await initVolume(volume);
        for (const bad of ["", "../x", "a/b", "a b", "-x"]) {
            await assert.rejects(snapshotVolume(volume, snapshots, bad), /snapshot label .* is not allowed/);
        }
        await assert.rejects(snapshotVolume(join(root, "missing"), snapshots, "x"), /ENOENT/);
    });

    it("restoreSnapshot brings back the snapshot's contents and removes what it lacks", async () => {
        await initVolume(volume);
        writeFileSync(join(volume, "keep.txt"), "before");
        const snapshot = await snapshotVolume(volume, snapshots, "0001");
        migrateFile(join(volume, DATABASE_FILE), "0001");
        writeFileSync(join(volume, "keep.txt"), "after");
        mkdirSync(join(volume, "new-dir"));
        writeFileSync(join(volume, "new-dir", "file"), "x");
        await restoreSnapshot(snapshot.path, volume);
        assert.deepEqual(readDatabase(join(volume, DATABASE_FILE)), emptyDatabase());
        assert.equal(readFileSync(join(volume, "keep.txt"), "utf8"), "before");
        assert.deepEqual(readdirSync(volume).sort(), [DATABASE_FILE, "keep.txt"]);
        assert.ok(existsSync(join(snapshot.path, DATABASE_FILE)), "the snapshot itself is kept");
    });

    it("restoreSnapshot restores folders too", async () => {
        await initVolume(volume);
        mkdirSync(join(volume, "blobs"));
        writeFileSync(join(volume, "blobs", "a"), "old");
        const snapshot = await snapshotVolume(volume, snapshots, "0001");
        writeFileSync(join(volume, "blobs", "a"), "new");
        writeFileSync(join(volume, "blobs", "b"), "new");
        await restoreSnapshot(snapshot.path, volume);
        assert.deepEqual(readdirSync(join(volume, "blobs")), ["a"]);
        assert.equal(readFileSync(join(volume, "blobs", "a"), "utf8"), "old");
    });

    it("restoreSnapshot refuses a folder that is not a snapshot, leaving the volume alone", async () => {
        await initVolume(volume);
        migrateFile(join(volume, DATABASE_FILE), "0001");
        mkdirSync(snapshots, { recursive: true });
        await assert.rejects(restoreSnapshot(snapshots, volume), /is not a snapshot of a database volume/);
        assert.deepEqual(readDatabase(join(volume, DATABASE_FILE)).schemaVersion, ["0001"]);
    });
});
