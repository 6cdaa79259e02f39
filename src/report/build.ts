/**
 * `npm run report`: builds report/ from results/ (DESIGN.md, "Who uses it").
 *
 * Writes `report/README.md` and `report/index.html` (the same content), `report/runs.csv`
 * (one row per run) and `report/metrics.csv` (one row per number, with its protocol), and
 * renders loss curves of the runs into `report/figures/runs-*.{svg,png}`. The document holds:
 * the report's own numbers as a labelled reference table; one row per finished run (id,
 * variant, key params, each metric as a column naming split, protocol and beam); every
 * number again with its run id and full protocol; unfinished and damaged runs; the loss
 * figures and every figure the notebooks exported into report/figures/. With no runs it
 * says so and still writes the reference table and the exported figures.
 */
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { installedVersion } from '../compute/environment';
import { PROJECT_ROOT, reportRoot } from '../common/project';
import { flattenConfig } from '../tracking/canonical';
import { tableOfRuns, type Row, type RunTable } from '../tracking/compare';
import { gitState } from '../tracking/environment';
import { resultsRoot, runsFolder } from '../tracking/paths';
import { metricColumn, type RunMetric } from '../tracking/records';
import { Run } from '../tracking/run';
import { listRuns, type RunEntry } from '../tracking/store';
import { exportFigure } from '../viz/display';
import type { Figure } from '../viz/renderer';
import type { TableCell } from '../viz/tables';
import { groupCurvesFigure, type CurveGroup } from '../viz/group-figures';
import { curvesOf, type RunCurves } from '../viz/training-figures';
import { toHtml, toMarkdown, type Block } from './document';
import { REPORT_NUMBERS } from '../analysis/paper-reference';
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

/** A run's group in the loss figures: its name without the seed suffix (`ablation-alpha-c-1-s3` -> `ablation-alpha-c-1`). */
export function seedGroupName(name: string): string {
  return name.replace(/-s\d+$/, '');
}

function csv(table: RunTable): string {
  return toCsv(table.columns, table.rows.map((r) => table.columns.map((c) => r[c])));
}

/** Config keys whose values differ between runs (all keys when there is one run), at most `max`. */
export function keyParams(entries: readonly RunEntry[], max = 8): string[] {
  const flat = entries.map((e) => flattenConfig(e.summary?.config ?? {}));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const varying = keys.filter((k) => new Set(flat.map((f) => JSON.stringify(f[k] ?? null))).size > 1);
  return (entries.length > 1 ? varying : keys).slice(0, max);
}

function variantOf(entry: RunEntry): string {
  const config = entry.summary?.config;
  if (config && typeof config === 'object' && !Array.isArray(config) && typeof (config as Record<string, unknown>).variant === 'string') {
    return String((config as Record<string, unknown>).variant);
  }
  return entry.summary?.name ?? '';
}

/** A path relative to the project when inside it, else absolute. */
function shownPath(p: string): string {
  const relative = path.relative(PROJECT_ROOT, p);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : p;
}

function code(text: string): string {
  return '`' + text.replace(/`/g, "'") + '`';
}

async function renderRunFigures(runs: Run[], figuresDir: string, warnings: string[], log: (line: string) => void): Promise<{ name: string; caption: string }[]> {
  for (const f of fs.existsSync(figuresDir) ? fs.readdirSync(figuresDir) : []) {
    if (f.startsWith(RUN_FIGURE_PREFIX)) fs.rmSync(path.join(figuresDir, f), { force: true });
  }
  // Listing reads summaries only: a finished run's history is first read (and checked) here,
  // for the runs drawn only.
  const drawn = [...runs].sort((a, b) => (a.summary.updatedAt < b.summary.updatedAt ? 1 : a.summary.updatedAt > b.summary.updatedAt ? -1 : 0)).slice(0, MAX_RUNS_IN_FIGURES);
  const left = runs.length - drawn.length;
  const of = (labels: string) => (left > 0 ? `the ${drawn.length} most recently updated runs (${runs.length} in all; runs.csv has every run): ${labels}` : labels);
  // One group per run name without its seed suffix (`baseline-s2` -> `baseline`): a line and a band per model or arm, not per run id.
  const groups = new Map<string, RunCurves[]>();
  for (const run of drawn.sort((a, b) => (a.id < b.id ? -1 : 1))) {
    try {
      const group = seedGroupName(run.config.name);
      groups.set(group, [...(groups.get(group) ?? []), curvesOf(run)]);
    } catch (error) {
      const reason = `run ${run.id} left out of the training figures: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      warnings.push(reason);
      log(`[captioning-lab] warning: ${reason}`);
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

/**
 * The first coco-caption BLEU-4 of the finished runs (free-running on test first, then any
 * split and protocol), to show the scale the report's numbers are printed on.
 */
export function scaleExample(entries: readonly RunEntry[]): { id: string; metric: RunMetric } | undefined {
  const bleu = entries.flatMap((e) => (e.summary?.metrics ?? []).filter((m) => m.name === 'BLEU-4' && m.implementation === 'coco-caption').map((metric) => ({ id: e.id, metric })));
  return bleu.find((b) => b.metric.split === 'test' && b.metric.protocol === 'free-running') ?? bleu[0];
}

/** How the report's numbers were measured and, when a run has one, one of our BLEU-4s printed on their scale. */
function referenceScaleNote(finished: readonly RunEntry[]): string {
  const intro = 'These come from teacher-forced validation with an NLTK-style BLEU on a 0-100 scale and no beam search; ours are on the coco-caption scale (0-1)';
  const example = scaleExample(finished);
  const caveat = 'but only numbers with the same protocol and implementation can be compared.';
  if (!example) return `${intro}, ${caveat}`;
  const { id, metric } = example;
  return (
    `${intro}: run ${code(id)}'s ${metricColumn(metric)} of ${metric.value.toFixed(4)} would print as ${(100 * metric.value).toFixed(1)} there, ` + caveat
  );
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
  const git = gitState();
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: 'captioning-lab: reproduced results' },
    {
      kind: 'paragraph',
      text:
        `Generated ${new Date().toISOString()} by ${code('npm run report')} from ${code(shownPath(results))} ` +
        `(captioning-lab ${installedVersion('captioning-lab')}, git ${git.commit.slice(0, 12)}${git.dirty === true ? ', uncommitted changes' : ''}). ` +
        'Every number names the run that produced it and how it was measured: the split, the protocol (**free-running**: captions decoded ' +
        'from the image alone; **teacher-forced**: each word predicted given the true previous words, as the report measured), the beam ' +
        'size and the implementation (**coco-caption**: the COCO caption toolkit\'s metrics, on a 0-1 scale except CIDEr-D on the toolkit\'s x10 scale; ' +
        '**captioning-lab**: losses computed by this project\'s code).',
    },
    { kind: 'heading', level: 2, text: "The report's own numbers (reference, not reproduced here)" },
    {
      kind: 'table',
      columns: ['model', 'metric', 'value', 'scale', 'where', 'source'],
      rows: REPORT_NUMBERS.map((n) => [n.model, n.metric, n.value, n.scale, n.table, `source: ${n.source}`]),
    },
    { kind: 'paragraph', text: referenceScaleNote(finished) },
    { kind: 'heading', level: 2, text: 'Runs' },
  ];

  if (entries.length === 0) {
    blocks.push({
      kind: 'paragraph',
      text: `No runs found in ${code(shownPath(runsFolder(results)))}: train one from a notebook (${code('lab.experiment(job)')}) or the command line, then run ${code('npm run report')} again.`,
    });
  } else {
    blocks.push({
      kind: 'paragraph',
      text: `${entries.length} run folder(s) in ${code(shownPath(runsFolder(results)))}: ${finished.length} finished, ${unfinished.length} not finished, ${damaged.length} damaged. One row per finished run; each metric column names its split, protocol and beam (and implementation when not coco-caption).`,
    });
  }

  const wide = tableOfRuns(finished, 'wide');
  const params = options.params ?? keyParams(finished);
  const metricColumns = [...new Set(finished.flatMap((e) => e.summary!.metrics.map((m) => metricColumn(m))))].sort();
  if (finished.length > 0) {
    // Epochs trained of those planned, the best epoch (whose checkpoint gave the test numbers and whose train/val numbers are shown) and why training ended.
    const columns = ['run', 'variant', 'epochs trained', 'best epoch', 'stop', ...params, ...metricColumns];
    const rows = finished.map((e) => {
      const row = wide.rows.find((r) => r.id === e.id) as Row;
      const flat = flattenConfig(e.summary!.config);
      const { completed, planned } = e.summary!.epochs;
      return [code(e.id), variantOf(e), `${completed} / ${planned}`, row.best_epoch, row.stop, ...params.map((p) => flat[p] ?? null), ...metricColumns.map((c) => row[c] ?? null)];
    });
    blocks.push({ kind: 'table', columns, rows });
    blocks.push({ kind: 'heading', level: 3, text: 'Every number with its run and protocol' });
    const provenance: TableCell[][] = [];
    for (const e of finished) {
      for (const m of e.summary!.metrics) {
        provenance.push([code(e.id), m.name, m.value, m.split ?? '', m.protocol ?? '', m.beam ?? null, m.implementation, m.epoch !== undefined ? m.epoch + 1 : null]);
      }
    }
    blocks.push({ kind: 'table', columns: ['run', 'metric', 'value', 'split', 'protocol', 'beam', 'implementation', 'epoch'], rows: provenance });
  }
  if (unfinished.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Runs not finished (their numbers are not in the tables)' });
    blocks.push({
      kind: 'table',
      columns: ['run', 'status', 'epochs done', 'last error'],
      rows: unfinished.map((e) => [
        code(e.id),
        e.lockedBy ? `${e.status} (pid ${e.lockedBy.pid} on ${e.lockedBy.hostname})` : e.status === 'running' ? 'running (no live process: resumable)' : e.status,
        `${e.statusRecord?.epochsCompleted ?? '?'} / ${e.statusRecord?.epochsPlanned ?? '?'}`,
        e.statusRecord?.error?.message ?? '',
      ]),
    });
  }
  if (damaged.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Damaged run folders (not used)' });
    blocks.push({ kind: 'list', items: damaged.map((e) => `${code(e.id)}: ${e.problem}`) });
  }

  const tables = readExportedTables(options.tables ?? path.join(out, 'tables'));
  if (tables.length > 0) {
    blocks.push({ kind: 'heading', level: 2, text: 'Tables exported by the notebooks' });
    for (const t of tables) blocks.push({ kind: 'table', columns: t.columns, rows: t.rows, caption: `${t.title} (tables/${t.name}.csv)` });
  }

  blocks.push({ kind: 'heading', level: 2, text: 'Figures' });
  const figureFiles: string[] = [];
  if (generated.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Loss curves of the runs' });
    for (const g of generated) {
      blocks.push({ kind: 'figure', png: `figures/${g.name}.png`, svg: `figures/${g.name}.svg`, caption: g.caption });
      figureFiles.push(`${g.name}.png`, `${g.name}.svg`);
    }
  }
  for (const w of warnings) blocks.push({ kind: 'paragraph', text: `(${w})` });
  const exported = fs
    .readdirSync(figuresDir)
    .filter((f) => f.endsWith('.png') && !f.startsWith(RUN_FIGURE_PREFIX))
    .sort();
  if (exported.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Figures exported by the notebooks' });
    for (const f of exported) {
      const name = f.slice(0, -4);
      const svg = fs.existsSync(path.join(figuresDir, `${name}.svg`)) ? `figures/${name}.svg` : undefined;
      blocks.push({ kind: 'figure', png: `figures/${f}`, ...(svg ? { svg } : {}), caption: name });
      figureFiles.push(f);
    }
  } else if (generated.length === 0) {
    blocks.push({ kind: 'paragraph', text: `No figures yet: notebooks export them into ${code('report/figures/')} with ${code('lab.exportFigure(figure, name)')}.` });
  }

  const markdown = toMarkdown(blocks);
  const html = toHtml(blocks, 'captioning-lab: reproduced results');
  await writeFileAtomic(path.join(out, 'README.md'), markdown);
  await writeFileAtomic(path.join(out, 'index.html'), html);
  await writeFileAtomic(path.join(out, 'runs.csv'), csv(wide));
  await writeFileAtomic(path.join(out, 'metrics.csv'), csv(tableOfRuns(finished, 'long')));
  return { dir: out, markdown, html, runs: finished.length, figures: figureFiles, warnings };
}
