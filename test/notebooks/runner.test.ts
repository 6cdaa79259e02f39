// `captioning notebooks` against real Jupyter (nbconvert) and the project's tslab kernel,
// on fixture notebooks: a passing one that imports src/, and three that must fail loudly.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { extractNotebookError, findEscapedErrors } from '../../src/notebooks/runner';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'notebooks');

/** Runs the real command line on one fixture, writing executed copies to a temp folder. */
function runNotebooksCli(fixture: string): { code: number; output: string; outDir: string } {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'notebooks-'));
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'captioning.js'), 'notebooks', '--out', outDir, path.join(FIXTURES, fixture)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: result.status ?? -1, output: `${result.stdout}\n${result.stderr}`, outDir };
}

type Output = { output_type: string; name?: string; text?: string[]; data?: Record<string, unknown> };

function outputsOf(notebookFile: string): Output[][] {
  const notebook = JSON.parse(fs.readFileSync(notebookFile, 'utf8')) as { cells: { outputs?: Output[] }[] };
  return notebook.cells.map((cell) => cell.outputs ?? []);
}

test('a notebook that imports ../src runs, and its outputs (text and a PNG figure) are kept', () => {
  const { code, output, outDir } = runNotebooksCli('imports-src.ipynb');
  assert.equal(code, 0, output);
  assert.match(output, /notebooks: 1 passed, 0 failed/);
  const cells = outputsOf(path.join(outDir, 'imports-src.ipynb'));
  const text = cells[0].map((o) => (o.text ?? []).join('')).join('');
  assert.match(text, /product 17,39 on (wasm|node|node-gpu|cpu)/);
  const figure = cells[1].find((o) => o.output_type === 'display_data');
  assert.ok(figure?.data, 'the figure cell has a display_data output');
  const png = Buffer.from(String(figure.data['image/png']), 'base64');
  assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  assert.ok(figure.data['application/vnd.plotly.v1+json'], 'plotly JSON travels with the PNG');
});

test('a cell that throws fails the run with its real error, and the notebook is left untouched', () => {
  const fixture = path.join(FIXTURES, 'failing-cell.ipynb');
  const before = fs.readFileSync(fixture, 'utf8');
  const { code, output, outDir } = runNotebooksCli('failing-cell.ipynb');
  assert.notEqual(code, 0);
  assert.match(output, /An error occurred while executing the following cell/);
  assert.match(output, /Error: deliberate failure in cell 2/);
  assert.match(output, /notebooks: 0 passed, 1 failed/);
  assert.equal(fs.readFileSync(fixture, 'utf8'), before);
  assert.deepEqual(fs.readdirSync(outDir), [], 'no executed copy of a failed notebook');
});

test('an unhandled promise rejection fails the run even though every cell returned', () => {
  const { code, output } = runNotebooksCli('unhandled-rejection.ipynb');
  assert.notEqual(code, 0);
  assert.match(output, /UnhandledPromiseRejection/);
  assert.match(output, /deliberate unhandled rejection/);
});

test('a type error in a cell fails the run with the compiler message', () => {
  const { code, output } = runNotebooksCli('type-error.ipynb');
  assert.notEqual(code, 0);
  assert.match(output, /Type 'string' is not assignable to type 'number'/);
});

test('extractNotebookError finds the failing cell in nbconvert output', () => {
  assert.equal(extractNotebookError('[NbConvertApp] Converting notebook x\n[NbConvertApp] Writing 100 bytes'), undefined);
  assert.match(
    extractNotebookError('noise\nAn error occurred while executing the following cell:\n---\nthrow 1\n---\nError: 1')!,
    /^An error occurred while executing the following cell:[\s\S]*Error: 1$/,
  );
});

test('findEscapedErrors reports the cell whose stderr shows an escaped rejection', () => {
  const notebook = (stderr: string) =>
    JSON.stringify({
      cells: [
        { cell_type: 'markdown', source: '# title' },
        { cell_type: 'code', source: ['run();'], outputs: [{ output_type: 'stream', name: 'stderr', text: [stderr] }] },
      ],
    });
  assert.deepEqual(findEscapedErrors(notebook('[captioning-lab] backend wasm\n')), []);
  const [found, ...rest] = findEscapedErrors(notebook('UnhandledPromiseRejection: Error: late\n    at x\n'));
  assert.equal(rest.length, 0);
  assert.match(found, /escaped cell 2 .*\nrun\(\);\n-+\nUnhandledPromiseRejection: Error: late\n    at x$/);
});
