// `captioning notebooks`: the cell time limit it hands nbconvert. A stand-in `jupyter`
// (CAPTIONING_JUPYTER) records its arguments, so no kernel runs.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { NO_CELL_TIMEOUT, parseCellTimeout } from '../../src/cli/notebooks';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-notebooks-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const argsFile = path.join(tmp, 'jupyter-args.txt');
const fakeJupyter = path.join(tmp, 'jupyter');
fs.writeFileSync(fakeJupyter, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\necho 'stand-in jupyter: not executed' >&2\nexit 3\n`, { mode: 0o755 });
const notebook = path.join(tmp, 'one.ipynb');
fs.writeFileSync(notebook, JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 }));

/** Runs `captioning notebooks …` against the stand-in; returns the exit code, stderr and the timeout nbconvert was given. */
function notebooks(...args: string[]): { code: number; stderr: string; timeout?: string } {
  fs.rmSync(argsFile, { force: true });
  const env = { ...process.env, CAPTIONING_JUPYTER: fakeJupyter };
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'captioning.js'), 'notebooks', notebook, ...args], { encoding: 'utf8', timeout: 60_000, env });
  const passed = fs.existsSync(argsFile) ? fs.readFileSync(argsFile, 'utf8').split('\n') : [];
  const timeout = passed.find((a) => a.startsWith('--ExecutePreprocessor.timeout='))?.split('=')[1];
  return { code: r.status ?? -1, stderr: r.stderr, timeout };
}

test('by default a cell has no time limit (a paper-profile training cell runs for hours)', () => {
  const r = notebooks();
  assert.equal(r.code, 1, 'the stand-in fails the notebook');
  assert.match(r.stderr, /stand-in jupyter: not executed/);
  assert.equal(r.timeout, String(NO_CELL_TIMEOUT), "nbclient's -1: no timeout");
  assert.equal(NO_CELL_TIMEOUT, -1);
});

test('--cell-timeout sets a limit, accepts none, and names itself and the value when it is bad', () => {
  assert.equal(notebooks('--cell-timeout', '600').timeout, '600');
  assert.equal(notebooks('--cell-timeout', 'none').timeout, '-1');
  const bad = notebooks('--cell-timeout', 'soon');
  assert.equal(bad.code, 1);
  assert.equal(bad.timeout, undefined, 'nbconvert is not started');
  assert.match(bad.stderr, /--cell-timeout must be 'none' or a positive whole number of seconds, got "soon"/);
  assert.equal(parseCellTimeout(' 7200 '), 7200);
  assert.throws(() => parseCellTimeout('0'), /got "0"/);
  assert.throws(() => parseCellTimeout('1.5'), /got "1\.5"/);
});
