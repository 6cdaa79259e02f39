// A chapter run the way a reader runs it: Jupyter Notebook (the classic front end, Debian's
// jupyter-notebook) serving the project's kernel spec on a loopback port, the chapter opened
// in Chromium, Cell > Run All clicked in the page. Checked in the page: every code cell ran
// (an execution count each), no error output or stack trace, the figures (PNG) and tables
// (HTML) are displayed, and the training cell's progress is ONE output updated in place.
//
// Run by `npm run test:browser` (not by test:unit) with the environment CI's notebook stage
// uses (CAPTIONING_SET=train.epochs=2, CAPTIONING_REPORT=results/executed-notebooks/report)
// and the same results root, so that the nbconvert stage after it loads the runs trained
// here. When that root already holds runs (a machine that ran the notebooks before), the
// chapter trains into a scratch root instead (results/browser-test/results): the in-place
// check needs training to happen, and an existing run would only be loaded.
//
// The chapter is copied (outputs cleared) to results/browser-test/: the kernel's launch.js
// finds tslab in the nearest node_modules above the notebook, so the copy must live in the
// repository; its `import … from '../src'` is rewritten for its folder's depth. The
// committed notebooks are never opened. On failure the folder keeps the page's notebook
// (browser-notebook.json), a screenshot, the training cell's recorded changes and the
// server's log.
import { strict as assert } from 'node:assert';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { PROJECT_ROOT } from '../../src/common/project';
import { jupyterCommand } from '../../src/notebooks/runner';
import { runsFolder } from '../../src/tracking/paths';
import { findChromium } from '../../src/viz/renderer';

const CHAPTER = '02-baseline-attention.ipynb';
const WORK = path.join(PROJECT_ROOT, 'results', 'browser-test');
/** The whole chapter, training included, on a 2-core CI machine. */
const RUN_TIMEOUT_MS = 90 * 60_000;

interface NotebookCell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; data?: Record<string, unknown> }[];
  execution_count?: number | null;
  metadata?: Record<string, unknown>;
}

const sourceOf = (cell: NotebookCell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source);

/** The chapter with its outputs cleared and its `../src` import made right for `folder`. */
function copyChapter(folder: string): { file: string; cells: NotebookCell[] } {
  const committed = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'notebooks', CHAPTER), 'utf8')) as { cells: NotebookCell[] };
  const srcFromCopy = path.relative(folder, path.join(PROJECT_ROOT, 'src')).split(path.sep).join('/');
  let imports = 0;
  const cells = committed.cells.map((cell) => {
    if (cell.cell_type !== 'code') return cell;
    const source = sourceOf(cell).replace(/from '\.\.\/src'/g, () => {
      imports += 1;
      return `from '${srcFromCopy}'`;
    });
    return { ...cell, source, outputs: [], execution_count: null, metadata: { ...cell.metadata, execution: undefined } };
  });
  assert.equal(imports, 1, `${CHAPTER}: expected one import from '../src'`);
  const file = path.join(folder, CHAPTER);
  fs.writeFileSync(file, JSON.stringify({ ...committed, cells }, null, 1));
  return { file, cells: committed.cells };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve(0));
    request.setTimeout(5_000, () => request.destroy());
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Server {
  child: ChildProcess;
  url: string;
  token: string;
  log: () => string;
  stop: () => Promise<void>;
}

/** Jupyter Notebook on 127.0.0.1 with token auth, serving `folder`, the project's kernel spec on JUPYTER_PATH. */
async function startJupyter(folder: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'browser-test-jupyter-'));
  const args = [
    'notebook',
    '--no-browser',
    '--ip=127.0.0.1',
    `--port=${port}`,
    '--port-retries=0',
    `--notebook-dir=${folder}`,
    `--NotebookApp.token=${token}`,
    "--NotebookApp.password=''",
    '--allow-root',
  ];
  const child = spawn(jupyterCommand(), args, {
    cwd: folder,
    env: {
      ...env,
      JUPYTER_PATH: [path.join(PROJECT_ROOT, 'jupyter'), env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
      // Nothing from the user's Jupyter: its own config, data and runtime folders.
      JUPYTER_CONFIG_DIR: path.join(home, 'config'),
      JUPYTER_DATA_DIR: path.join(home, 'data'),
      JUPYTER_RUNTIME_DIR: path.join(home, 'runtime'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000)));
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      exited = `could not start ${jupyterCommand()}: ${error.message} (scripts/setup.sh installs jupyter-notebook)`;
      resolve();
    });
    child.on('exit', (code, signal) => {
      exited ??= `jupyter notebook exited (${signal ?? `code ${code}`})`;
      resolve();
    });
  });
  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM'); // the server shuts its kernels down
      const killed = await Promise.race([exit.then(() => true), sleep(15_000).then(() => false)]);
      if (!killed) child.kill('SIGKILL');
      await exit;
    }
    fs.rmSync(home, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while ((await httpStatus(`${url}/api/status?token=${token}`)) !== 200) {
    if (exited !== undefined || Date.now() > deadline) {
      await stop();
      throw new Error(`${exited ?? 'jupyter notebook did not answer within 90 s'}:\n${output.slice(-5000)}`);
    }
    await sleep(500);
  }
  return { child, url, token, log: () => output, stop };
}

/** In-page helpers over the classic front end's `Jupyter.notebook`. */
const PAGE_HELPERS = `
window.__lab = {
  cells() { return Jupyter.notebook.get_cells(); },
  state() {
    const code = this.cells().filter((c) => c.cell_type === 'code');
    const icon = document.querySelector('#kernel_indicator_icon');
    return {
      kernel: Jupyter.notebook.kernel ? Jupyter.notebook.kernel.name : null,
      idle: Boolean(icon && icon.classList.contains('kernel_idle_icon')),
      running: code.filter((c) => c.element[0].classList.contains('running')).length,
      counts: code.map((c) => (typeof c.input_prompt_number === 'number' ? c.input_prompt_number : null)),
      errors: document.querySelectorAll('.output_error').length,
    };
  },
  watch(index) {
    const cell = Jupyter.notebook.get_cell(index);
    const out = cell.output_area.element[0];
    const records = (window.__records = []);
    const take = () => {
      const areas = out.querySelectorAll(':scope > .output_area');
      records.push({
        t: Date.now(),
        running: cell.element[0].classList.contains('running'),
        outputs: areas.length,
        texts: [...areas].map((area) => area.innerText.slice(0, 4000)),
      });
    };
    new MutationObserver(take).observe(out, { childList: true, subtree: true, characterData: true });
    take();
  },
  report() {
    return this.cells().map((c, index) => {
      if (c.cell_type !== 'code') return { index, code: false };
      const out = c.output_area.element[0];
      const images = [...out.querySelectorAll('.output_png img, img')].filter((img) => img.src.startsWith('data:image/png'));
      return {
        index,
        code: true,
        count: typeof c.input_prompt_number === 'number' ? c.input_prompt_number : null,
        source: c.get_text().slice(0, 200),
        types: c.output_area.outputs.map((o) => o.output_type + (o.name ? ':' + o.name : '')),
        areas: out.querySelectorAll(':scope > .output_area').length,
        pngs: images.length,
        pngsLoaded: images.filter((img) => img.complete && img.naturalWidth > 0).length,
        tables: [...out.querySelectorAll('.output_html table')].map((table) => table.querySelectorAll('tbody tr').length),
        errors: [...out.querySelectorAll('.output_error')].map((e) => e.innerText.slice(0, 2000)),
        stderr: [...out.querySelectorAll('.output_stderr')].map((e) => e.innerText.slice(-4000)).join('\\n'),
        text: out.innerText.slice(-3000),
      };
    });
  },
};
`;

interface CellReport {
  index: number;
  code: boolean;
  count?: number | null;
  source?: string;
  types?: string[];
  areas?: number;
  pngs?: number;
  pngsLoaded?: number;
  tables?: number[];
  errors?: string[];
  stderr?: string;
  text?: string;
}

interface PageState {
  kernel: string | null;
  idle: boolean;
  running: number;
  counts: (number | null)[];
  errors: number;
}

interface OutputRecord {
  t: number;
  running: boolean;
  outputs: number;
  /** innerText of each output area. */
  texts: string[];
}

/** An error or a stack trace in a cell's stderr (tslab prints a failing cell's error there). */
const TRACE = /^\s*(\w*Error|UnhandledPromiseRejection|UncaughtException)\b[^\n]*$|^\s+at .+:\d+:\d+\)?$/m;

test(`${CHAPTER} runs in Jupyter Notebook in Chromium: every cell, no error, figures, tables, training progress in place`, { timeout: RUN_TIMEOUT_MS + 5 * 60_000 }, async (t) => {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const { cells: committed } = copyChapter(WORK);

  const env: NodeJS.ProcessEnv = { ...process.env };
  const shared = runsFolder();
  const sharedHasRuns = fs.existsSync(shared) && fs.readdirSync(shared).length > 0;
  if (sharedHasRuns) env.CAPTIONING_RESULTS = path.join(WORK, 'results');
  t.diagnostic(`results root: ${sharedHasRuns ? `${env.CAPTIONING_RESULTS} (scratch: ${shared} already holds runs)` : path.dirname(shared)}`);
  t.diagnostic(`CAPTIONING_SET=${env.CAPTIONING_SET ?? ''} CAPTIONING_REPORT=${env.CAPTIONING_REPORT ?? ''}`);

  const server = await startJupyter(WORK, env);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  let passed = false;
  try {
    await page.goto(`${server.url}/notebooks/${encodeURIComponent(CHAPTER)}?token=${server.token}`, { timeout: 60_000 });
    await page.waitForFunction('window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()', undefined, { timeout: 120_000, polling: 500 });
    await page.waitForFunction("document.querySelector('#kernel_indicator_icon').classList.contains('kernel_idle_icon')", undefined, { timeout: 120_000, polling: 500 });
    await page.evaluate(PAGE_HELPERS);
    const initial = (await page.evaluate('__lab.state()')) as PageState;
    assert.equal(initial.kernel, 'captioning-lab', "the chapter's kernel spec, from the repository's jupyter/ folder");
    assert.ok(initial.counts.every((c) => c === null), 'the copy starts with no outputs');

    // The training cell, watched from the start: every change of its output area is recorded.
    const trainingIndex = committed.findIndex((c) => c.cell_type === 'code' && /\btrainRuns\(/.test(sourceOf(c)));
    assert.ok(trainingIndex >= 0, `${CHAPTER} has a cell that calls trainRuns`);
    await page.evaluate(`__lab.watch(${trainingIndex})`);

    // As a reader does: Cell > Run All.
    await page.click('#celllink');
    await page.click('#run_all_cells > a');

    const started = Date.now();
    let state = initial;
    let quiet = 0;
    // Done when the kernel has been idle with no cell running or queued for two polls in a row.
    while (Date.now() - started < RUN_TIMEOUT_MS) {
      await sleep(2_000);
      state = (await page.evaluate('__lab.state()')) as PageState;
      quiet = state.idle && state.running === 0 ? quiet + 1 : 0;
      if (quiet >= 2 && Date.now() - started > 5_000) break;
    }
    t.diagnostic(`ran in ${((Date.now() - started) / 1000).toFixed(0)} s; execution counts ${JSON.stringify(state.counts)}`);
    const report = (await page.evaluate('__lab.report()')) as CellReport[];
    const code = report.filter((c) => c.code);
    const describe = (c: CellReport) => `cell ${c.index + 1} (${JSON.stringify(c.source)}):\n${c.errors?.join('\n') || ''}${c.text ?? ''}`;

    assert.ok(quiet >= 2, `the chapter did not finish within ${RUN_TIMEOUT_MS / 60_000} min`);
    // Every code cell executed, in order.
    for (const c of code) assert.equal(typeof c.count, 'number', `not executed: ${describe(c)}`);
    assert.deepEqual(code.map((c) => c.count), code.map((_, k) => k + 1), 'one execution each, in order');
    // No error output, no stack trace on stderr, no error in the page.
    for (const c of code) {
      assert.deepEqual(c.errors, [], `error output in ${describe(c)}`);
      assert.doesNotMatch(c.stderr ?? '', TRACE, `an error on stderr in ${describe(c)}`);
    }
    assert.deepEqual(pageErrors, [], 'errors in the page');
    // The figures and tables the committed chapter has are displayed: PNGs loaded, tables with rows.
    let figures = 0;
    let tables = 0;
    committed.forEach((cell, index) => {
      const shown = report[index];
      // nbformat may store a multi-line string as a list of lines.
      const data = (cell.outputs ?? []).map((o) => Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join('') : v])));
      if (data.some((d) => 'image/png' in d)) {
        assert.ok((shown.pngs ?? 0) > 0 && shown.pngsLoaded === shown.pngs, `no figure displayed (PNG) in ${describe(shown)}`);
        figures += shown.pngs!;
      }
      if (data.some((d) => /<table/.test(String(d['text/html'] ?? '')))) {
        assert.ok((shown.tables ?? []).some((rows) => rows > 0), `no table displayed in ${describe(shown)}`);
        tables += shown.tables!.length;
      }
      if (cell.cell_type === 'code' && /\bshow\(/.test(sourceOf(cell))) {
        assert.ok((shown.pngs ?? 0) + (shown.tables ?? []).length > 0, `show() displayed nothing in ${describe(shown)}`);
      }
    });
    assert.ok(figures > 0 && tables > 0, `figures ${figures}, tables ${tables}`);
    t.diagnostic(`${figures} figures and ${tables} table(s) displayed`);

    // Training progress: while trainRuns ran, the cell had one output, whose text changed in
    // place; the cell's own printout (`<id>: N epochs, best epoch …`) is a second output that
    // comes once trainRuns has returned, after which the progress output no longer changes.
    const records = (await page.evaluate('window.__records')) as OutputRecord[];
    const training = report[trainingIndex];
    const running = records.filter((r) => r.running && r.outputs > 0);
    const firstSecond = running.findIndex((r) => r.outputs > 1);
    const during = firstSecond < 0 ? running : running.slice(0, firstSecond);
    const after = firstSecond < 0 ? [] : running.slice(firstSecond);
    const texts = [...new Set(during.map((r) => r.texts[0]))];
    t.diagnostic(`training cell: ${records.length} changes recorded, ${texts.length} distinct progress texts while training; outputs after: ${JSON.stringify(training.types)}`);
    assert.match(training.text ?? '', /training \d+ run\(s\)/, `the chapter trained (the in-place check needs training): ${describe(training)}`);
    assert.ok(during.length > 0, 'the training cell showed progress while it ran');
    assert.deepEqual([...new Set(during.map((r) => r.outputs))], [1], 'one output while training');
    assert.ok(texts.length >= 3, `the progress output was updated in place (${texts.length} distinct texts:\n${texts.join('\n---\n')})`);
    if (after.length > 0) {
      assert.match(after[0].texts[1], /^\S+: \d+ epochs, best /m, `the second output is the cell's own printout after training, not more progress:\n${after[0].texts[1]}`);
      assert.deepEqual([...new Set(after.map((r) => r.texts[0]))], [after[0].texts[0]], 'the progress output no longer changes once the cell prints');
      assert.ok(after.every((r) => r.outputs === 2), 'no output after the printout while the cell ran');
    }
    assert.equal(training.types?.[0], 'display_data', 'the progress output is a display (updated by its display id)');
    assert.equal(training.areas, 2, 'after the cell: the progress display and the printout');
    passed = true;
  } finally {
    if (!passed) {
      await page.screenshot({ path: path.join(WORK, 'failure.png'), fullPage: true }).catch(() => undefined);
      const json = await page.evaluate('JSON.stringify(Jupyter.notebook.toJSON(), null, 1)').catch(() => null);
      if (typeof json === 'string') fs.writeFileSync(path.join(WORK, 'browser-notebook.json'), json);
      const records = await page.evaluate('JSON.stringify(window.__records || [], null, 1)').catch(() => null);
      if (typeof records === 'string') fs.writeFileSync(path.join(WORK, 'training-cell-records.json'), records);
      fs.writeFileSync(path.join(WORK, 'jupyter.log'), server.log());
      t.diagnostic(`kept ${WORK} (failure.png, browser-notebook.json, training-cell-records.json, jupyter.log)`);
    }
    await browser.close();
    await server.stop();
    if (passed) fs.rmSync(WORK, { recursive: true, force: true });
  }
});
