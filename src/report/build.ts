/**
 * `npm run report`: builds report/ from results/ (DESIGN.md, "Who uses it").
 *
 * Writes `report/README.md` and `report/index.html` (the same content), `report/runs.csv`
 * (one row per run) and `report/metrics.csv` (one row per number, with its protocol), and
 * renders loss curves of the runs, per model or arm, into `report/figures/runs-*.{svg,png}`.
 * The document reads as a reproduction report (issue #19): the body (reproduction.ts: summary,
 * claims, Tables 1 and 2, what differs from the paper, the figures with what to look at,
 * compute) labels models and arms; the appendix (appendix.ts) has the runs behind each label
 * and every number with its run id and protocol. With no runs it says so and still writes the
 * reference table and the exported figures.
 */
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { reportRoot } from '../common/project';
import { tableOfRuns, type RunTable } from '../tracking/compare';
import { resultsRoot } from '../tracking/paths';
import { Run } from '../tracking/run';
import { listRuns } from '../tracking/store';
import { exportFigure } from '../viz/display';
import { groupCurvesFigure, type CurveGroup } from '../viz/group-figures';
import type { Figure } from '../viz/renderer';
import { curvesOf, type RunCurves } from '../viz/training-figures';
import { appendixBlocks } from './appendix';
import { toHtml, toMarkdown, type Block } from './document';
import { groupBySeedStem, runGroups } from './groups';
import { claimsAndTablesBlocks, computeBlocks, differencesBlocks, figureBlocks, summaryBlocks } from './reproduction';
import { readExportedTables, toCsv } from './tables';

export interface ReportOptions {
  /** Results root (default: $CAPTIONING_RESULTS, else <project>/results). */
  results?: string;
  /** Output folder (default $CAPTIONING_REPORT, else <project>/report). */
  out?: string;
  /** Exported tables to include (default: <out>/tables, i.e. report/tables). */
  tables?: string;
  /** Render loss curves through Chromium (default true). */
  figures?: boolean;
  /** Config keys shown in the runs table (default: the keys whose values differ between runs, at most 8). */
  params?: string[];
  log?: (line: string) => void;
}

export interface ReportResult {
  dir: string;
  markdown: string;
  html: string;
  runs: number;
  figures: string[];
  /** Figures that could not be rendered, with why. */
  warnings: string[];
}

/** The generated figures' prefix in report/figures (removed and rewritten on every build). */
export const RUN_FIGURE_PREFIX = 'runs-';
/**
 * Runs drawn in the report's loss figures: the most recently updated ones. More curves would
 * not read (and 500 paper-length histories would not fit in memory at once); every run's
 * numbers are in runs.csv and metrics.csv whatever their number.
 */
export const MAX_RUNS_IN_FIGURES = 40;

function csv(table: RunTable): string {
  return toCsv(table.columns, table.rows.map((r) => table.columns.map((c) => r[c])));
}

/** Renders the runs' loss curves, per model or arm, into report/figures/runs-*. */
async function renderRunFigures(runs: Run[], figuresDir: string, warnings: string[], log: (line: string) => void): Promise<{ name: string; caption: string }[]> {
  for (const f of fs.existsSync(figuresDir) ? fs.readdirSync(figuresDir) : []) {
    if (f.startsWith(RUN_FIGURE_PREFIX)) fs.rmSync(path.join(figuresDir, f), { force: true });
  }
  // Listing reads summaries only: a finished run's history is first read (and checked) here,
  // for the runs drawn only.
  const drawn = [...runs].sort((a, b) => (a.summary.updatedAt < b.summary.updatedAt ? 1 : a.summary.updatedAt > b.summary.updatedAt ? -1 : 0)).slice(0, MAX_RUNS_IN_FIGURES);
  const left = runs.length - drawn.length;
  const of = (labels: string) => (left > 0 ? `the ${drawn.length} most recently updated runs (${runs.length} in all; runs.csv has every run): ${labels}` : labels);
  // One group per model or arm (groups.ts): a line and a band for its seeds, not one line per run id.
  const groups = new Map<string, RunCurves[]>();
  const sorted = drawn.sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const [label, members] of groupBySeedStem(sorted, (run) => ({ name: run.summary.name, config: run.summary.config }))) {
    for (const run of members) {
      try {
        groups.set(label, [...(groups.get(label) ?? []), curvesOf(run)]);
      } catch (error) {
        const reason = `run ${run.id} left out of the training figures: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
        warnings.push(reason);
        log(`[captioning-lab] warning: ${reason}`);
      }
    }
  }
  const has = (kind: 'step' | 'epoch', metric: string): CurveGroup[] =>
    [...groups].map(([label, runs]) => ({ label, runs: runs.filter((c) => c.records.some((r) => r.kind === kind && typeof r[metric] === 'number')) })).filter((g) => g.runs.length > 0);
  const named = (list: CurveGroup[]) => list.map((g) => `${g.label} (${g.runs.map((c) => c.label).join(', ')})`).join('; ');
  const wanted: { name: string; caption: string; build: () => Figure }[] = [];
  const steps = has('step', 'loss');
  if (steps.length > 0) {
    wanted.push({
      name: `${RUN_FIGURE_PREFIX}training-loss`,
      caption: `Training loss per iteration (metrics.jsonl step lines), mean over each group's seeds with a min-max band, of ${of(named(steps))}`,
      build: () => groupCurvesFigure(steps, { kind: 'step', metric: 'loss', title: 'Training loss by iteration, per model or arm', yTitle: 'training loss' }),
    });
  }
  const epochs = has('epoch', 'val_loss');
  if (epochs.length > 0) {
    wanted.push({
      name: `${RUN_FIGURE_PREFIX}validation-loss`,
      caption: `Validation loss per epoch (teacher-forced, as each job computes it), mean over each group's seeds with a min-max band, of ${of(named(epochs))}`,
      build: () => groupCurvesFigure(epochs, { metric: 'val_loss', title: 'Validation loss by epoch, per model or arm', yTitle: 'validation loss' }),
    });
  }
  const done: { name: string; caption: string }[] = [];
  for (const w of wanted) {
    try {
      await exportFigure(w.build(), w.name, figuresDir);
      done.push({ name: w.name, caption: w.caption });
    } catch (error) {
      const reason = `figure ${w.name} not rendered: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      warnings.push(reason);
      log(`[captioning-lab] warning: ${reason}`);
    }
  }
  return done;
}

/** Builds the report; see the module comment. */
export async function buildReport(options: ReportOptions = {}): Promise<ReportResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const results = resultsRoot(options.results);
  const out = path.resolve(options.out ?? reportRoot());
  const figuresDir = path.join(out, 'figures');
  fs.mkdirSync(figuresDir, { recursive: true });
  const warnings: string[] = [];

  const entries = listRuns({ root: results, includeDamaged: true });
  const finished = entries.filter((e) => !e.problem && e.status === 'finished' && e.summary);
  const unfinished = entries.filter((e) => !e.problem && e.status !== 'finished');
  const damaged = entries.filter((e) => e.problem);
  const runs = finished.map((e) => new Run(e.id, e.dir));

  const generated = options.figures === false ? [] : await renderRunFigures(runs, figuresDir, warnings, log);
  const tables = readExportedTables(options.tables ?? path.join(out, 'tables'));
  const figures = figureBlocks(figuresDir, RUN_FIGURE_PREFIX);
  const groups = runGroups(finished); // once, for the body and the appendix
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: 'Image captioning with BERT word inputs: a reproduction' },
    ...summaryBlocks(tables),
    ...claimsAndTablesBlocks(tables),
    ...differencesBlocks(groups),
    ...figures.blocks,
    ...computeBlocks(finished, groups),
    ...appendixBlocks({ results, entries, finished, groups, unfinished, damaged, tables, generated, warnings, params: options.params }),
  ];
  const figureFiles = [...generated.flatMap((g) => [`${g.name}.png`, `${g.name}.svg`]), ...figures.files];

  const markdown = toMarkdown(blocks);
  // Self-contained: every figure's PNG inside the page.
  const inline = (png: string) => {
    const file = path.join(out, png);
    return fs.existsSync(file) ? `data:image/png;base64,${fs.readFileSync(file).toString('base64')}` : undefined;
  };
  const html = toHtml(blocks, 'Image captioning with BERT word inputs: a reproduction', inline);
  await writeFileAtomic(path.join(out, 'README.md'), markdown);
  await writeFileAtomic(path.join(out, 'index.html'), html);
  await writeFileAtomic(path.join(out, 'runs.csv'), csv(tableOfRuns(finished, 'wide')));
  await writeFileAtomic(path.join(out, 'metrics.csv'), csv(tableOfRuns(finished, 'long')));
  return { dir: out, markdown, html, runs: finished.length, figures: figureFiles, warnings };
}
