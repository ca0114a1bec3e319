/**
 * The picture of one flip, as SVG text: requests per second answered by each generation over time (the
 * handover from the old one to the new one), failed requests marked in red, and the runbook's phases
 * (snapshot, migration, create, gate, attach, smoke, drain, detach, terminate) as bands over the chart
 * and as one lane each below it; a rollout's steps as markers with the share each asked and got. Written beside the flip's report by the main job and the flip benchmark.
 *
 * Pure: data in, SVG text out; exported for tests.
 *
 * No plotting library: the picture is a few dozen rectangles, one step line per generation, ticks and
 * labels, which is about as much code as configuring a library would take. The well-kept libraries that
 * make SVG (Vega-Lite through `vega`, D3, Observable Plot) need a DOM or a canvas in Node.js (jsdom,
 * node-canvas) and bring dozens of packages into a project that runs its demo with ts-node; a hand-written
 * SVG has no dependency, renders the same in a browser, on GitHub and in `rsvg-convert`, and is tested as
 * text.
 */
import { PHASES, type Phase, type Span } from "./phases";
import type { Answer } from "./traffic";
import { rolloutSteps, wentBackAt, type RolloutTiming } from "./rolloutSteps";

export interface FlipPictureInput {
    from: string;
    to: string;
    answers: Answer[];
    /** When the flip's `pulumi up` started and ended (epoch ms). */
    startedAt: number;
    endedAt: number;
    /** When each phase ran (epoch ms). */
    phaseSpans: Partial<Record<Phase, Span>>;
    /** A rollout's timings: each step drawn as a marker with the share it asked and got, and the errors per generation. @default none */
    rollout?: RolloutTiming[];
}

export interface PictureOptions {
    /** Width of one bar of the rate, in ms. @default 500 */
    binMs?: number;
    /** Width of the whole picture, in pixels. @default 960 */
    width?: number;
}

/** Colour of each phase (bands and lanes). */
const PHASE_COLORS: Record<Phase, string> = {
    snapshot: "#8c564b",
    migration: "#9467bd",
    create: "#17becf",
    gate: "#bcbd22",
    attach: "#2ca02c",
    smoke: "#7f7f7f",
    drain: "#ff7f0e",
    detach: "#e377c2",
    terminate: "#d62728",
};
const OLD_COLOR = "#1f77b4";
const NEW_COLOR = "#2ca02c";
const OTHER_COLORS = ["#9467bd", "#8c564b", "#7f7f7f"];
const FAILED_COLOR = "#d62728";

/** Answers per second of each generation in bins of `binMs` from `origin` (epoch ms), by when each answer ended; failed answers apart. */
export function binRates(answers: Answer[], origin: number, end: number, binMs: number): { start: number; byGeneration: Record<string, number>; failed: number }[] {
    const bins = Array.from({ length: Math.max(1, Math.ceil((end - origin) / binMs)) }, (_, i) => ({ start: origin + i * binMs, byGeneration: {} as Record<string, number>, failed: 0 }));
    const perSecond = 1000 / binMs;
    for (const a of answers) {
        const bin = bins[Math.min(bins.length - 1, Math.max(0, Math.floor((a.endedAt - origin) / binMs)))];
        if (a.error !== undefined) bin.failed += perSecond;
        else bin.byGeneration[a.generation ?? "?"] = (bin.byGeneration[a.generation ?? "?"] ?? 0) + perSecond;
    }
    return bins;
}

/** The generations in the order they are drawn and listed: the old one, the new one, then any other. */
function generations(input: FlipPictureInput): string[] {
    const seen = new Set(input.answers.filter((a) => a.error === undefined).map((a) => a.generation ?? "?"));
    return [input.from, input.to, ...[...seen].filter((g) => g !== input.from && g !== input.to).sort()];
}

function colorOf(generation: string, input: FlipPictureInput, others: string[]): string {
    if (generation === input.from) return OLD_COLOR;
    if (generation === input.to) return NEW_COLOR;
    return OTHER_COLORS[others.indexOf(generation) % OTHER_COLORS.length];
}

/** A step of 1, 2 or 5 times a power of ten giving about `count` ticks over `range`. */
export function niceStep(range: number, count: number): number {
    const raw = Math.max(range, 1e-9) / count;
    const power = 10 ** Math.floor(Math.log10(raw));
    return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
}

export function escapeXml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const n = (x: number) => String(Math.round(x * 10) / 10);

export function flipPicture(input: FlipPictureInput, options: PictureOptions = {}): string {
    const binMs = options.binMs ?? 500;
    const width = options.width ?? 960;
    const left = 110;
    const right = 20;
    const top = 58;
    const chartHeight = 260;
    const laneHeight = 18;
    const lanesTop = top + chartHeight + 34;
    const phases = PHASES.filter((p) => input.phaseSpans[p] !== undefined);
    const height = lanesTop + Math.max(1, phases.length) * laneHeight + 16;

    const times = [input.startedAt, input.endedAt, ...input.answers.flatMap((a) => [a.startedAt, a.endedAt])];
    const origin = Math.min(...times);
    const end = Math.max(...times, origin + binMs);
    const x = (t: number) => left + ((t - origin) / (end - origin)) * (width - left - right);
    const bins = binRates(input.answers, origin, end, binMs);
    const gens = generations(input);
    const others = gens.slice(2);
    const peak = Math.max(1, ...bins.flatMap((b) => Object.values(b.byGeneration)));
    const yStep = niceStep(peak, 5);
    const yMax = Math.ceil(peak / yStep) * yStep;
    const y = (rate: number) => top + chartHeight - (rate / yMax) * chartHeight;
    const failed = input.answers.filter((a) => a.error !== undefined);

    const out: string[] = [];
    out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
    out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
    const seconds = ((input.endedAt - input.startedAt) / 1000).toFixed(1);
    out.push(
        `<text x="${left}" y="18" font-size="15" font-weight="bold">${escapeXml(`flip ${input.from} -> ${input.to}: ${input.answers.length} requests, ${failed.length} failed, pulumi up ${seconds} s`)}</text>`,
    );

    // Legend.
    let lx = left;
    for (const g of gens) {
        const label = g === input.from ? `${g} (old)` : g === input.to ? `${g} (new)` : g;
        out.push(`<rect x="${lx}" y="30" width="14" height="4" fill="${colorOf(g, input, others)}"/><text x="${lx + 18}" y="36">${escapeXml(label)}</text>`);
        lx += 30 + label.length * 7;
    }
    out.push(`<line x1="${lx}" y1="26" x2="${lx}" y2="38" stroke="${FAILED_COLOR}" stroke-width="2"/><text x="${lx + 6}" y="36">failed (${failed.length})</text>`);
    lx += 80;
    out.push(`<text x="${lx}" y="36" fill="#555555">requests per second by generation, ${binMs} ms bars; phases as bands</text>`);

    // Phase bands over the chart.
    for (const p of phases) {
        const span = input.phaseSpans[p]!;
        const w = Math.max(1, x(span.end) - x(span.start));
        out.push(`<rect class="phase-band" data-phase="${p}" x="${n(x(span.start))}" y="${top}" width="${n(w)}" height="${chartHeight}" fill="${PHASE_COLORS[p]}" fill-opacity="0.12"/>`);
    }

    // Axes and grid.
    for (let v = 0; v <= yMax + 1e-9; v += yStep) {
        out.push(`<line x1="${left}" y1="${n(y(v))}" x2="${width - right}" y2="${n(y(v))}" stroke="#dddddd"/>`);
        out.push(`<text x="${left - 6}" y="${n(y(v) + 4)}" text-anchor="end">${n(v)}</text>`);
    }
    out.push(`<text x="14" y="${top + chartHeight / 2}" transform="rotate(-90 14 ${top + chartHeight / 2})" text-anchor="middle">requests/s</text>`);
    const xStep = niceStep((end - origin) / 1000, 10) * 1000;
    for (let t = Math.ceil((origin - input.startedAt) / xStep) * xStep; input.startedAt + t <= end; t += xStep) {
        const px = n(x(input.startedAt + t));
        out.push(`<line x1="${px}" y1="${top + chartHeight}" x2="${px}" y2="${top + chartHeight + 4}" stroke="#333333"/>`);
        out.push(`<text x="${px}" y="${top + chartHeight + 16}" text-anchor="middle">${n(t / 1000)}</text>`);
    }
    out.push(`<text x="${width - right}" y="${top + chartHeight + 30}" text-anchor="end">seconds since pulumi up started</text>`);
    out.push(`<line x1="${left}" y1="${top + chartHeight}" x2="${width - right}" y2="${top + chartHeight}" stroke="#333333"/>`);
    out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + chartHeight}" stroke="#333333"/>`);
    for (const [t, label] of [
        [input.startedAt, "pulumi up"],
        [input.endedAt, "done"],
    ] as const) {
        out.push(`<line x1="${n(x(t))}" y1="${top}" x2="${n(x(t))}" y2="${top + chartHeight}" stroke="#333333" stroke-dasharray="4 3"/>`);
        out.push(`<text x="${n(x(t) + 3)}" y="${top + 11}" fill="#333333">${label}</text>`);
    }

    // A rollout's steps: where each step's weights were on, with the share asked and got and each generation's errors.
    for (const step of rolloutSteps(input.rollout ?? [])) {
        if (step.appliedAt === undefined) continue;
        const px = n(x(step.appliedAt));
        const label = `${step.percent}%: got ${step.sharePercent.toFixed(0)}%, errors ${step.candidateErrorPercent.toFixed(1)}% / ${step.stableErrorPercent.toFixed(1)}%`;
        out.push(`<line class="rollout-step" data-step="${step.step}" x1="${px}" y1="${top}" x2="${px}" y2="${top + chartHeight}" stroke="${NEW_COLOR}" stroke-dasharray="2 2"/>`);
        out.push(`<text x="${n(x(step.appliedAt) + 3)}" y="${top + 24 + 13 * (step.step - 1)}" fill="${NEW_COLOR}">${escapeXml(label)}</text>`);
    }
    const back = wentBackAt(input.rollout ?? []);
    if (back !== undefined) {
        out.push(`<line class="rollout-back" x1="${n(x(back))}" y1="${top}" x2="${n(x(back))}" y2="${top + chartHeight}" stroke="${FAILED_COLOR}" stroke-dasharray="2 2"/>`);
        out.push(`<text x="${n(x(back) + 3)}" y="${top + chartHeight - 20}" fill="${FAILED_COLOR}">went back</text>`);
    }

    // One step line per generation.
    for (const g of gens) {
        const points = bins.flatMap((b) => {
            const rate = b.byGeneration[g] ?? 0;
            return [`${n(x(b.start))},${n(y(rate))}`, `${n(x(Math.min(b.start + binMs, end)))},${n(y(rate))}`];
        });
        out.push(`<polyline class="series" data-generation="${escapeXml(g)}" points="${points.join(" ")}" fill="none" stroke="${colorOf(g, input, others)}" stroke-width="2"/>`);
    }

    // Failed requests: a red tick at the bottom of the chart where each ended.
    for (const a of failed) {
        const px = n(x(a.endedAt));
        out.push(`<line class="failed" x1="${px}" y1="${top + chartHeight - 14}" x2="${px}" y2="${top + chartHeight}" stroke="${FAILED_COLOR}" stroke-width="2"><title>${escapeXml(`${a.kind} ${a.url}: ${a.error ?? ""}`)}</title></line>`);
    }

    // One lane per phase below the chart.
    phases.forEach((p, i) => {
        const span = input.phaseSpans[p]!;
        const ly = lanesTop + i * laneHeight;
        const x0 = x(span.start);
        const w = Math.max(2, x(span.end) - x0);
        out.push(`<text x="${left - 6}" y="${ly + 12}" text-anchor="end">${p}</text>`);
        out.push(`<rect class="phase-lane" data-phase="${p}" x="${n(x0)}" y="${ly + 2}" width="${n(w)}" height="${laneHeight - 5}" fill="${PHASE_COLORS[p]}" fill-opacity="0.8"/>`);
        const label = `${((span.end - span.start) / 1000).toFixed(1)} s`;
        const fits = x0 + w + 50 <= width;
        out.push(`<text x="${n(fits ? x0 + w + 4 : x0 - 4)}" y="${ly + 12}" fill="#333333"${fits ? "" : ' text-anchor="end"'}>${label}</text>`);
    });
    out.push("</svg>");
    return `${out.join("\n")}\n`;
}
