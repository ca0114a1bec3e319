/**
 * Writes the markdown upgrade plan of a `pulumi preview --json` (from a file, or standard input).
 * Exits 2 when something outside the flip would be replaced or deleted, 1 on unreadable input.
 *
 *   pulumi preview --json --stack prod | npx ts-node scripts/plan-summary.ts > plan.md
 */
import { readFileSync } from "node:fs";
import { formatPlan, summarizePreview, type PreviewJson } from "./lib/planSummary";

function main(): number {
    const file = process.argv[2];
    const text = readFileSync(file ?? 0, "utf8");
    let preview: PreviewJson;
    try {
        preview = JSON.parse(text);
        if (!Array.isArray(preview.steps)) throw new Error("it has no steps array");
    } catch (err) {
        process.stderr.write(`plan-summary: ${file ?? "standard input"} is not the output of \`pulumi preview --json\`: ${(err as Error).message}\n`);
        return 1;
    }
    const plan = summarizePreview(preview);
    process.stdout.write(`${formatPlan(plan)}\n`);
    return plan.unexpected.length > 0 ? 2 : 0;
}

process.exitCode = main();
