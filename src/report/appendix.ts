/**
 * The report's appendix (issue #19: what the report was before, moved last): how it was made,
 * the report's own numbers, the runs behind every label of the body (grouped by model or arm,
 * with their ids), every run with the keys that differ, every number with its run id, split,
 * protocol, beam and implementation, unfinished and damaged runs, every exported table, and the
 * runs' loss curves.
 */
import * as path from 'path';

import { REPORT_NUMBERS } from '../analysis/paper-reference';
import { PROJECT_ROOT } from '../common/project';
import { installedVersion } from '../compute/environment';
import { flattenConfig } from '../tracking/canonical';
import { tableOfRuns, type Row } from '../tracking/compare';
import { gitState } from '../tracking/environment';
import { runsFolder } from '../tracking/paths';
import { metricColumn, type RunMetric } from '../tracking/records';
import type { RunEntry } from '../tracking/store';
import type { TableCell } from '../viz/tables';
import type { Block } from './document';
import type { RunGroups } from './groups';
import type { ExportedTable } from './tables';

export interface AppendixInput {
  results: string;
  entries: readonly RunEntry[];
  finished: readonly RunEntry[];
  /** The finished runs by model or arm (groups.ts). */
  groups: RunGroups;
  unfinished: readonly RunEntry[];
  damaged: readonly RunEntry[];
  tables: readonly ExportedTable[];
  /** The loss figures rendered from the runs. */
  generated: readonly { name: string; caption: string }[];
  warnings: readonly string[];
  /** Config keys shown in the every-run table (default: those that differ, at most 8). */
  params?: string[];
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

/** Each model or arm (runs grouped by name without the seed) with its runs' ids. */
function groupBlocks(groups: RunGroups): Block[] {
  if (groups.size === 0) return [];
  return [
    {
      kind: 'table',
      columns: ['group', 'runs', 'run ids'],
      rows: [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, runs]) => [g, runs.length, runs.map((e) => code(e.id)).join(', ')]),
      caption:
        'The body names models and arms; these are the runs behind each. "baseline" and "bert" are the report\'s two models (notebooks 02, 03, 05); ' +
        'notebook 04\'s arm "BERT static" is group "ablation-bert-static", and so on for every arm (sweeps/ablations.yaml names them); "bert-pretrain" is the BERT notebook 03 pretrains.',
    },
  ];
}

/** The appendix's blocks. */
export function appendixBlocks(input: AppendixInput): Block[] {
  const { results, entries, finished, unfinished, damaged, tables, generated, warnings } = input;
  const git = gitState();
  const blocks: Block[] = [
    { kind: 'heading', level: 2, text: 'Appendix' },
    { kind: 'heading', level: 3, text: 'How this report was made' },
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
    { kind: 'heading', level: 3, text: "The report's own numbers (reference, not reproduced here)" },
    {
      kind: 'table',
      columns: ['model', 'metric', 'value', 'scale', 'where', 'source'],
      rows: REPORT_NUMBERS.map((n) => [n.model, n.metric, n.value, n.scale, n.table, `source: ${n.source}`]),
    },
    { kind: 'paragraph', text: referenceScaleNote(finished) },
    { kind: 'heading', level: 3, text: 'Runs by model or arm (the labels of the body)' },
    ...groupBlocks(input.groups),
    { kind: 'heading', level: 3, text: 'Every run' },
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
  const params = input.params ?? keyParams(finished);
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

  if (tables.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Tables exported by the notebooks' });
    for (const t of tables) blocks.push({ kind: 'table', columns: t.columns, rows: t.rows, caption: `${t.title} (tables/${t.name}.csv)` });
  }

  if (generated.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Loss curves of the runs, per model or arm' });
    for (const g of generated) blocks.push({ kind: 'figure', png: `figures/${g.name}.png`, svg: `figures/${g.name}.svg`, caption: g.caption });
  }
  for (const w of warnings) blocks.push({ kind: 'paragraph', text: `(${w})` });
  return blocks;
}
