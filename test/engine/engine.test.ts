/**
 * The real engine, offline: the pinned CLI, the Node.js language host and the dynamic-provider host run
 * a small program through the Automation API on a file:// backend in a temporary folder.
 */
import * as assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { requireEngine, scratchBackend, scratchProgram, PINNED_PULUMI_VERSION, ScratchBackend } from "../../lab/engine";

describe("Pulumi engine (real CLI, file backend)", function () {
    let backend: ScratchBackend;
    let program: { dir: string; dispose(): void };
    let stack: Stack;
    let journal: string;

    before(async function () {
        assert.equal(requireEngine(), PINNED_PULUMI_VERSION);
        backend = scratchBackend();
        program = scratchProgram(join(__dirname, "fixtures", "minimal"));
        journal = join(program.dir, "journal.txt");
        stack = await LocalWorkspace.createStack(
            { stackName: "engine-check", workDir: program.dir },
            { envVars: backend.env },
        );
        await stack.setConfig("journal", { value: journal });
    });

    after(async function () {
        program?.dispose();
        backend?.dispose();
    });

    it("runs up with a dynamic resource whose provider really executes", async function () {
        const result = await stack.up();
        assert.equal(result.summary.result, "succeeded");
        assert.equal(result.outputs.length.value, 5);
        assert.equal(result.summary.resourceChanges?.create, 2);
        assert.equal(readFileSync(journal, "utf8"), "create hello\n");
    });

    it("previews no changes after the update", async function () {
        const preview = await stack.preview({ expectNoChanges: true });
        assert.equal(preview.changeSummary.same, 2);
        assert.equal(preview.changeSummary.create ?? 0, 0);
    });

    it("destroys through the stored provider", async function () {
        const result = await stack.destroy();
        assert.equal(result.summary.result, "succeeded");
        assert.equal(readFileSync(journal, "utf8"), "create hello\ndelete hello\n");
        assert.ok(existsSync(join(backend.dir, ".pulumi")), "the file backend holds the stack's state");
    });
});
