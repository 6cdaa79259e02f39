// `captioning report` (npm run report) on a few small real runs: README.md's tables match the
// runs' summary.json files, every number is cited with its run and protocol, the report's own
// numbers are labelled, loss figures are rendered; with no runs it says so.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { reportCommand } from '../../src/cli/report';
import { BACKEND_ENV_VAR, initBackend } from '../../src/compute/backend';
import { experiment, RunFailedError } from '../../src/tracking';
import { closeRenderer } from '../../src/viz/renderer';
import { reportFiguresDir } from '../../src/viz/display';
import { exportTable, readExportedTables } from '../../src/report/tables';
import { mlpJob } from '../tracking/fixtures/mlp-job';

let tmp: string;
let results: string;

interface Summary {
  id: string;
  name: string;
  status: string;
  config: { optimizer: { lr: number }; model: { hidden: number } };
  metrics: { name: string; value: number; split?: string; protocol?: string; beam?: number; implementation: string; epoch?: number }[];
  epochs: { planned: number; completed: number; best?: number };
  trainingSeconds: number;
}

before(async () => {
  process.env[BACKEND_ENV_VAR] = 'cpu';
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'report-'));
  results = path.join(tmp, 'results');
  const quiet = { root: results, log: () => {}, progress: 'none' as const };
  await experiment(mlpJob({ name: 'baseline', lr: 0.05, epochs: 2 }), quiet);
  await experiment(mlpJob({ name: 'bert', lr: 0.02, hidden: 6, epochs: 3 }), quiet);
  await assert.rejects(experiment(mlpJob({ name: 'broken', epochs: 3, failAt: 1 }), quiet), RunFailedError);
});
after(async () => {
  await closeRenderer();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `captioning report …` (what `npm run report` runs), in-process. */
async function report(...args: string[]): Promise<void> {
  await reportCommand().exitOverride().parseAsync(['node', 'report', ...args]);
}

/** The Markdown tables of a document: header cells and rows of cells. */
function markdownTables(md: string): { header: string[]; rows: string[][] }[] {
  const tables: { header: string[]; rows: string[][] }[] = [];
  const lines = md.split('\n');
  const cells = (line: string) => line.slice(2, -2).split(' | ').map((c) => c.replace(/\\\|/g, '|').trim());
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('| ') && lines[i + 1]?.startsWith('|---')) {
      const header = cells(lines[i]);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && lines[i].startsWith('| '); i++) rows.push(cells(lines[i]));
      tables.push({ header, rows });
    }
  }
  return tables;
}

function summaries(): Summary[] {
  const runs = path.join(results, 'runs');
  return fs.readdirSync(runs).filter((id) => !id.startsWith('.')).map((id) => JSON.parse(fs.readFileSync(path.join(runs, id, 'summary.json'), 'utf8')) as Summary);
}

test('the report lists every finished run with its metrics as recorded, each cited with run id and protocol', async () => {
  const out = path.join(tmp, 'report');
  await report('--results', results, '--out', out);
  const md = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
  const tables = markdownTables(md);
  const finished = summaries().filter((s) => s.status === 'finished');
  assert.equal(finished.length, 2);

  // Runs table: one row per finished run; a column per metric and protocol.
  const runsTable = tables.find((t) => t.header[0] === 'run' && t.header[1] === 'variant')!;
  assert.ok(runsTable, md);
  assert.equal(runsTable.rows.length, finished.length);
  for (const s of finished) {
    const row = runsTable.rows.find((r) => r[0] === `\`${s.id}\``);
    assert.ok(row, `a row for ${s.id}`);
    assert.equal(row[1], s.name);
    // Epochs trained of planned, the best epoch (1-based) and why training ended, as recorded.
    assert.equal(row[runsTable.header.indexOf('epochs trained')], `${s.epochs.completed} / ${s.epochs.planned}`);
    assert.equal(row[runsTable.header.indexOf('best epoch')], String(s.epochs.best! + 1));
    assert.equal(row[runsTable.header.indexOf('stop')], 'planned');
    assert.equal(Number(row[runsTable.header.indexOf('optimizer.lr')]), s.config.optimizer.lr, 'the params that differ are shown');
    assert.equal(Number(row[runsTable.header.indexOf('model.hidden')]), s.config.model.hidden);
    for (const m of s.metrics) {
      const protocol = [m.split, m.protocol, m.beam !== undefined ? `beam ${m.beam}` : undefined, m.implementation !== 'coco-caption' ? m.implementation : undefined].filter(Boolean).join(', ');
      const column = runsTable.header.indexOf(`${m.name} (${protocol})`);
      assert.ok(column > 0, `column for ${m.name} (${protocol}) in ${runsTable.header.join(' | ')}`);
      assert.ok(Math.abs(Number(row[column]) - m.value) <= 5e-5, `${s.id} ${m.name}: ${row[column]} vs ${m.value}`);
    }
  }

  // Provenance: each number once, with run id, split, protocol, beam, implementation.
  const provenance = tables.find((t) => t.header.join(',') === 'run,metric,value,split,protocol,beam,implementation,epoch')!;
  assert.equal(provenance.rows.length, finished.reduce((n, s) => n + s.metrics.length, 0));
  for (const s of finished) {
    for (const m of s.metrics) {
      const row = provenance.rows.find(
        (r) => r[0] === `\`${s.id}\`` && r[1] === m.name && r[3] === (m.split ?? '') && r[4] === (m.protocol ?? '') && r[5] === (m.beam === undefined ? '' : String(m.beam)) && r[6] === m.implementation,
      );
      assert.ok(row, `${s.id} ${m.name} ${m.split} ${m.protocol} ${m.beam}`);
      assert.ok(Math.abs(Number(row[2]) - m.value) <= 5e-5);
    }
  }

  // The report's own numbers, labelled.
  const reference = tables.find((t) => t.header[0] === 'model' && t.header.includes('source'))!;
  const refValues = reference.rows.map((r) => [r[0], r[1], Number(r[2])]);
  assert.deepEqual(refValues, [
    ['attention (baseline)', 'BLEU-4', 21.1],
    ['BERT + attention', 'BLEU-4', 26.8],
    ['attention (baseline)', 'validation loss', 4.5],
    ['BERT + attention', 'validation loss', 2.7],
  ]);
  assert.ok(reference.rows.every((r) => r[r.length - 1] === 'source: report (teacher-forced, NLTK-style)'));
  // The scale example under it is one of the runs' own BLEU-4s, read from its summary (no number written by hand).
  const example = [...finished]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .flatMap((s) => s.metrics.filter((m) => m.name === 'BLEU-4' && m.implementation === 'coco-caption').map((m) => ({ id: s.id, m })))
    .find((b) => b.m.split === 'test' && b.m.protocol === 'free-running')!;
  const label = `BLEU-4 (${[example.m.split, example.m.protocol, example.m.beam !== undefined ? `beam ${example.m.beam}` : undefined].filter(Boolean).join(', ')})`;
  assert.ok(md.includes(`run \`${example.id}\`'s ${label} of ${example.m.value.toFixed(4)} would print as ${(100 * example.m.value).toFixed(1)} there`), md);
  assert.ok(!md.includes('0.211'), 'no hand-written BLEU-4');

  // The failed run is listed apart with its error; its numbers are in no table.
  const failed = summaries().find((s) => s.status === 'failed')!;
  const unfinished = tables.find((t) => t.header.join(',') === 'run,status,epochs done,last error')!;
  assert.deepEqual(unfinished.rows.map((r) => [r[0], r[1], r[2]]), [[`\`${failed.id}\``, 'failed', '1 / 3']]);
  assert.match(unfinished.rows[0][3], /injected failure/);

  // Loss figures rendered from the runs, referenced by the document, and the HTML twin.
  for (const name of ['runs-training-loss', 'runs-validation-loss']) {
    const png = fs.readFileSync(path.join(out, 'figures', `${name}.png`));
    assert.equal(png.toString('ascii', 12, 16), 'IHDR');
    assert.ok(png.readUInt32BE(16) > 500);
    assert.ok(md.includes(`(figures/${name}.png)`));
    assert.ok(fs.readFileSync(path.join(out, 'figures', `${name}.svg`), 'utf8').includes('>iteration (optimiser step)<') || name !== 'runs-training-loss');
  }
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  for (const s of finished) assert.ok(html.includes(`<code>${s.id}</code>`));
  const png = fs.readFileSync(path.join(out, 'figures', 'runs-validation-loss.png')).toString('base64');
  assert.ok(html.includes(`<img src="data:image/png;base64,${png}"`), 'the page carries its figures');
  const csv = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length - 1, provenance.rows.length);
});

test('with no runs the report says so instead of failing, and keeps the reference table and exported figures', async () => {
  const out = path.join(tmp, 'empty-report');
  fs.mkdirSync(path.join(out, 'figures'), { recursive: true });
  fs.writeFileSync(path.join(out, 'figures', 'runs-training-loss.png'), 'stale');
  fs.copyFileSync(path.join(tmp, 'report', 'figures', 'runs-validation-loss.png'), path.join(out, 'figures', 'notebook-figure.png'));
  await report('--results', path.join(tmp, 'no-results'), '--out', out);
  const md = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
  assert.match(md, /No runs found in `.*no-results[\\/]runs`/);
  assert.ok(md.includes('source: report (teacher-forced, NLTK-style)'));
  assert.ok(md.includes('ours are on the coco-caption scale (0-1), but only numbers with the same protocol'), 'the scale is explained without a number of ours');
  assert.ok(!/0\.211|would print as/.test(md), 'no BLEU-4 of ours without a run');
  assert.ok(md.includes('![notebook-figure](figures/notebook-figure.png)'), 'figures exported by notebooks are listed');
  assert.ok(!fs.existsSync(path.join(out, 'figures', 'runs-training-loss.png')), 'stale run figures are removed');
});

test('tables exported by notebooks are written as CSV and JSON and appear in the report; a damaged one is named', async () => {
  const out = path.join(tmp, 'tables-report');
  const rows = [
    { model: 'baseline', 'BLEU-4': 0.4812, note: 'beam 3, "free-running"' },
    { model: 'BERT, bidirectional', 'BLEU-4': 0.4511, extra: 1 },
  ];
  const written = await exportTable(rows, '05-table1', { title: 'Table 1', dir: path.join(out, 'tables') });
  assert.equal(
    fs.readFileSync(written.csv, 'utf8'),
    'model,BLEU-4,note,extra\nbaseline,0.4812,"beam 3, ""free-running""",\n"BERT, bidirectional",0.4511,,1\n',
  );
  await report('--results', path.join(tmp, 'no-results'), '--out', out);
  const md = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
  assert.ok(md.includes('Tables exported by the notebooks'));
  assert.ok(md.includes('Table 1 (tables/05-table1.csv)'));
  assert.ok(md.includes('0.4511'));
  fs.writeFileSync(path.join(out, 'tables', 'broken.json'), '{"schema": "captioning-lab/table@1", "columns": ["a"], "rows": [[1, 2]]}');
  assert.throws(() => readExportedTables(path.join(out, 'tables')), /broken\.json: every row must have 1 cells/);
  await assert.rejects(exportTable(rows, 'bad name'), /name "bad name" may use letters/);
});

test('CAPTIONING_REPORT moves exported tables (and figures) out of the project report/', async () => {
  const moved = path.join(tmp, 'moved-report');
  const previous = process.env.CAPTIONING_REPORT;
  process.env.CAPTIONING_REPORT = moved;
  try {
    const written = await exportTable([{ a: 1 }], 'moved');
    assert.equal(written.csv, path.join(moved, 'tables', 'moved.csv'));
    assert.equal(reportFiguresDir(), path.join(moved, 'figures'));
  } finally {
    if (previous === undefined) delete process.env.CAPTIONING_REPORT;
    else process.env.CAPTIONING_REPORT = previous;
  }
});

test('the document reads as a reproduction report: summary and claims first, body tables of at most 8 columns with labels, run ids in the appendix', async () => {
  const out = path.join(tmp, 'reproduction-report');
  const tablesDir = path.join(out, 'tables');
  const statement = 'Under the report protocol the BERT variant gains; free-running it does not (an exported statement).';
  await exportTable([{ 'teacher-forced BLEU-4 gain': '0.35', statement }], '05-verdict', { title: 'Verdict', dir: tablesDir });
  await exportTable([{ claim: 'Table 1: BERT inputs raise BLEU-4', report: '21.1 -> 26.8', outcome: 'reproduced only under teacher forcing' }], '05-claims', { title: 'Claims', dir: tablesDir });
  await exportTable([{ model: 'attention (baseline)', n: '3', 'ours, free-running beam 3 (test)': '47.7 ± 5.1' }], '05-table1-bleu4', { title: 'Table 1', dir: tablesDir });
  await report('--results', results, '--out', out);
  const md = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
  const headings = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  assert.deepEqual(headings, ['Summary', 'Claims', 'Tables 1 and 2: the report and ours', 'What differs from the paper', 'Figures', 'Compute', 'Appendix']);
  const [body, appendix] = md.split(/^## Appendix$/m);
  assert.ok(body.includes(statement), 'the summary gives the verdict statement');
  assert.ok(body.indexOf('reproduced only under teacher forcing') < body.indexOf('## Tables 1 and 2'), 'the claims table before the tables');
  for (const t of markdownTables(body)) assert.ok(t.header.length <= 8, `a body table of ${t.header.length} columns: ${t.header.join(' | ')}`);
  for (const s of summaries().filter((x) => x.status === 'finished')) {
    assert.ok(!body.includes(s.id), `no run id in the body (${s.id})`);
    assert.ok(appendix.includes(`\`${s.id}\``), `the appendix names run ${s.id}`);
  }
  // The runs behind each label: one row per model or arm with its ids.
  const groups = markdownTables(appendix).find((t) => t.header.join(',') === 'group,runs,run ids')!;
  assert.deepEqual(groups.rows.map((r) => r[0]).sort(), ['baseline', 'bert']);
  // Compute: each group's training hours, from the runs' training_s.
  const compute = markdownTables(body).find((t) => t.header[0] === 'model or arm')!;
  const hours = (name: string) => summaries().filter((s) => s.status === 'finished' && s.name === name).reduce((a, s) => a + s.trainingSeconds / 3600, 0);
  for (const row of compute.rows) assert.ok(Math.abs(Number(row[2]) - hours(row[0])) < 0.0006, `${row[0]}: ${row[2]} h`);
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.ok(html.indexOf('Summary') < html.indexOf('Claims') && html.indexOf('Claims') < html.indexOf('Appendix'));
});
