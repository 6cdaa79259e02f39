/**
 * The body of the reproduction report (issue #19), in the order its readers look for things:
 * the summary (the claim tested and the verdict, with its numbers), the claims table, the
 * report's Tables 1 and 2 beside ours, what differs from the paper, the figures with what to
 * look at in each, and the compute spent. Every number comes from the notebooks' exported
 * tables or from the run records; labels name models and arms, and the appendix (appendix.ts)
 * gives the run ids behind each label.
 */
import * as fs from 'fs';
import * as path from 'path';

import { PAPER_SETTINGS, REPORT_NUMBERS } from '../analysis/paper-reference';
import { flattenConfig } from '../tracking/canonical';
import { Run } from '../tracking/run';
import type { RunEntry } from '../tracking/store';
import type { Block } from './document';
import type { RunGroups } from './groups';
import type { ExportedTable } from './tables';

/** What to look at in each figure the notebooks export, by name; the body shows these, in this order. */
export const FIGURE_CAPTIONS: readonly { name: string; caption: string }[] = [
  { name: '05-attention-baseline', caption: 'Attention over time, baseline: one panel per generated word. Look at whether the heat moves to the object each word names.' },
  { name: '05-attention-bert', caption: "Attention over time, BERT in the report's mode, on the same image: the same question, and whether its words describe the image at all." },
  { name: '05-training-loss', caption: 'Training loss per iteration, per model (mean over seeds, band min-max). Compare the levels the two models reach: both are teacher-forced.' },
  { name: '05-validation-loss', caption: "Teacher-forced validation loss per epoch, per model: the report's Table 2 protocol. Compare the gap between the models with the report's Table 2." },
  { name: '05-table1-bleu4-protocols', caption: "BLEU-4 under both protocols: the report's numbers, ours teacher-forced (validation) and ours free-running (test, beam 3). Compare the order of the two models under each." },
  { name: '05-captions-successes', caption: "Captions side by side on the images where the two models do best (mean per-image CIDEr-D), with each caption's score and two references." },
  { name: '05-captions-failures', caption: 'The same on the images where they do worst.' },
  { name: '04-ablations-differences', caption: 'Each ablation arm against the reference: the free-running test BLEU-4 difference and its 95 % paired-bootstrap interval. A filled dot is an interval that leaves 0 out; an open one could be the luck of the test images.' },
  { name: '04-ablations-bleu4', caption: "The ablation arms' free-running test BLEU-4: mean over seeds with sd whiskers, one dot per seed. Compare each whisker with the reference's." },
  { name: '04-schedule', caption: "Is the ablations' schedule long enough? For every schedule length E, the validation BLEU-4 of the checkpoint a run of E epochs keeps (from the full runs' records): the schedule is long enough where that curve stops rising." },
  { name: '04-word-inputs-val-loss', caption: 'Word inputs, teacher-forced validation loss per epoch, one line per arm: compare the BERT modes that cannot see the next words (static, causal) with the one that can (bidirectional).' },
  { name: '04-beam-size', caption: "Beam size: the reference's runs decoded with each beam of notebook 04's study; the table beside it there gives each beam against the runs' own with its interval." },
];

function table(tables: readonly ExportedTable[], name: string): ExportedTable | undefined {
  return tables.find((t) => t.name === name);
}

function cell(t: ExportedTable | undefined, column: string): string | undefined {
  const i = t?.columns.indexOf(column) ?? -1;
  return t && i >= 0 && t.rows.length > 0 ? String(t.rows[0][i]) : undefined;
}

/** The summary: the claim tested, how, and the verdict with its numbers (notebook 05's statement). */
export function summaryBlocks(tables: readonly ExportedTable[]): Block[] {
  const statement = cell(table(tables, '05-verdict'), 'statement');
  const seeds = cell(table(tables, '05-table1-bleu4'), 'n');
  const report = (model: string, metric: string) => REPORT_NUMBERS.find((n) => n.model === model && n.metric === metric)?.value;
  const scope =
    'The report (UMass CS682, "Image Captioning using Attention Models and BERT Embeddings") claims that feeding a Show-Attend-Tell decoder ' +
    `BERT's contextual word vectors instead of learned ones raises BLEU-4 (its Table 1: ${report('attention (baseline)', 'BLEU-4')} -> ${report('BERT + attention', 'BLEU-4')}) ` +
    `and lowers the validation loss (Table 2: ${report('attention (baseline)', 'validation loss')} -> ${report('BERT + attention', 'validation loss')}). ` +
    `We trained both models with ${seeds ?? 'several'} seeds each and measured them under the report's protocol (teacher-forced: each word predicted given the true previous words) ` +
    'and free-running (the caption decoded from the image alone, beam search, COCO caption toolkit metrics), with a paired bootstrap over the test images for every comparison.';
  return [
    { kind: 'heading', level: 2, text: 'Summary' },
    { kind: 'paragraph', text: scope },
    { kind: 'paragraph', text: statement ?? 'No verdict yet: run notebook 05 (it exports tables/05-verdict), then `npm run report` again.' },
  ];
}

/** The claims table (notebook 05's 05-claims) and the report's two tables beside ours. */
export function claimsAndTablesBlocks(tables: readonly ExportedTable[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Claims' }];
  const claims = table(tables, '05-claims');
  if (claims) blocks.push({ kind: 'table', columns: claims.columns, rows: claims.rows, caption: `${claims.title} (tables/05-claims.csv; the runs: appendix, groups "baseline" and "bert")` });
  else blocks.push({ kind: 'paragraph', text: 'No claims table yet: run notebook 05.' });
  blocks.push({ kind: 'heading', level: 2, text: 'Tables 1 and 2: the report and ours' });
  for (const name of ['05-table1-bleu4', '05-table2-validation-loss']) {
    const t = table(tables, name);
    if (t) blocks.push({ kind: 'table', columns: t.columns, rows: t.rows, caption: `${t.title} (tables/${name}.csv; the runs: appendix, groups "baseline" and "bert")` });
  }
  return blocks;
}

/** The reproduction's settings beside the paper's: from the baseline runs' records (config, environment). */
export function differencesBlocks(groups: RunGroups): Block[] {
  const baseline = groups.get('baseline')?.[0];
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'What differs from the paper' }];
  if (!baseline?.summary) {
    blocks.push({ kind: 'paragraph', text: 'No finished baseline run (notebook 02) to compare settings with.' });
    return blocks;
  }
  const flat = flattenConfig(baseline.summary.config);
  const v = (key: string) => (flat[key] === undefined || flat[key] === null ? '?' : String(flat[key]));
  const machine = machineOf(baseline);
  const ours = {
    data: v('data.source') === 'scenes' ? `generated scenes (${v('data.scenes.images')} images of ${v('data.scenes.size')} px, ${v('data.scenes.captionsPerImage')} captions each; README, "Data")` : `${v('data.source')}: ${v('data.dir')}`,
    encoder: v('encoder.kind') === 'pretrained' ? `${v('encoder.pretrained.model')}, layer ${v('encoder.pretrained.layer')} at ${v('encoder.inputSize')} px (frozen)` : `${v('encoder.kind')} at ${v('encoder.inputSize')} px`,
    bert: `${v('words.bert.model') === 'pretrain' ? "the project's own BERT (pretrained on the training captions; notebook 03)" : v('words.bert.model')}, mode ${v('words.bert.mode')}`,
    schedule: `Adam ${v('train.learningRate')}, batch ${v('train.batchSize')}, up to ${v('train.epochs')} epochs with early stopping, alpha_c ${v('train.alphaC')}; embedding ${v('words.dim')}, hidden ${v('decoder.hidden')}, attention ${v('decoder.attention')}`,
    hardware: machine ? `${machine} (${baseline.summary.backend} backend)` : `${baseline.summary.backend} backend`,
    metric: `the COCO caption toolkit (coco-caption; PTB tokenizer), teacher-forced, and free-running with beam ${beams(baseline)}`,
  };
  blocks.push({
    kind: 'table',
    columns: ['setting', 'the paper', 'ours'],
    rows: (Object.keys(PAPER_SETTINGS) as (keyof typeof PAPER_SETTINGS)[]).map((k) => [k, PAPER_SETTINGS[k], ours[k]]),
    caption: `Ours: the config and environment of run group "baseline" (appendix). The paper's: its text, src/analysis/paper-reference.ts.`,
  });
  return blocks;
}

/** The free-running beams a run recorded test scores for: "1 and 3". */
function beams(entry: RunEntry): string {
  const found = [...new Set((entry.summary?.metrics ?? []).filter((m) => m.protocol === 'free-running' && m.split === 'test' && m.beam !== undefined).map((m) => m.beam!))].sort((a, b) => a - b);
  return found.length === 0 ? '(none recorded)' : found.length === 1 ? String(found[0]) : `${found.slice(0, -1).join(', ')} and ${found[found.length - 1]}`;
}

/** "2 CPU core(s), AMD EPYC": the machine of a run's last attempt (its environment.json). */
function machineOf(entry: RunEntry): string | undefined {
  const cpus = new Run(entry.id, entry.dir).environment?.cpus;
  return cpus ? `${cpus.count} CPU core(s), ${cpus.model}` : undefined;
}

/** The notebooks' figures with what to look at, in FIGURE_CAPTIONS' order; others follow under their names. */
export function figureBlocks(figuresDir: string, skipPrefix: string): { blocks: Block[]; files: string[] } {
  const exported = fs.existsSync(figuresDir) ? fs.readdirSync(figuresDir).filter((f) => f.endsWith('.png') && !f.startsWith(skipPrefix)).map((f) => f.slice(0, -4)) : [];
  const ordered = [...FIGURE_CAPTIONS.filter((f) => exported.includes(f.name)), ...exported.filter((n) => !FIGURE_CAPTIONS.some((f) => f.name === n)).sort().map((name) => ({ name, caption: name }))];
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Figures' }];
  if (ordered.length === 0) blocks.push({ kind: 'paragraph', text: 'No figures yet: the notebooks export them into `report/figures/` with `lab.exportFigure(figure, name)`.' });
  const files: string[] = [];
  for (const { name, caption } of ordered) {
    const svg = fs.existsSync(path.join(figuresDir, `${name}.svg`)) ? `figures/${name}.svg` : undefined;
    blocks.push({ kind: 'figure', png: `figures/${name}.png`, ...(svg ? { svg } : {}), caption });
    files.push(`${name}.png`);
  }
  return { blocks, files };
}

/** Training time per model or arm (the runs' training_s), in all, and the machine. */
export function computeBlocks(finished: readonly RunEntry[], runGroups: RunGroups): Block[] {
  const groups = new Map<string, { runs: number; seconds: number; backend: Set<string> }>();
  for (const [label, members] of runGroups) {
    groups.set(label, { runs: members.length, seconds: members.reduce((a, e) => a + e.summary!.trainingSeconds, 0), backend: new Set(members.map((e) => e.summary!.backend)) });
  }
  const total = [...groups.values()].reduce((a, g) => a + g.seconds, 0);
  const gpu = finished.filter((e) => e.summary!.backend === 'node-gpu').reduce((a, e) => a + e.summary!.trainingSeconds, 0);
  const machine = finished.length > 0 ? machineOf(finished[0]) : undefined;
  return [
    { kind: 'heading', level: 2, text: 'Compute' },
    {
      kind: 'paragraph',
      text:
        `${finished.length} finished run(s), ${(total / 3600).toFixed(2)} hours of training in all, ${((total - gpu) / 3600).toFixed(2)} of them on CPU${machine ? ` (the first run's machine: ${machine})` : ''} ` +
        `and ${(gpu / 3600).toFixed(2)} on a GPU (the node-gpu backend). Training time is each run's own (its \`training_s\`), so runs trained side by side count each.`,
    },
    {
      kind: 'table',
      columns: ['model or arm', 'runs', 'training (hours)', 'backend'],
      rows: [...groups].sort((a, b) => b[1].seconds - a[1].seconds).map(([g, v]) => [g, v.runs, Number((v.seconds / 3600).toFixed(3)), [...v.backend].join(', ')]),
    },
  ];
}
