/**
 * Executes notebooks headlessly with Jupyter's nbconvert, the way CI and `npm run notebooks`
 * do: every cell runs in the project's tslab kernel, outputs are kept in the saved file, and
 * a failing cell or an unhandled promise rejection makes the run fail with the real error.
 *
 * The kernel spec comes from the repository (`jupyter/kernels/captioning-lab`, put on
 * JUPYTER_PATH here), so nothing needs to be installed into the user's Jupyter.
 * A notebook is executed into `<its folder>/.executing/` and renamed over the original
 * only when every cell passed: a failed run never overwrites the last good outputs.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { PROJECT_ROOT } from '../common/project';

export { PROJECT_ROOT };

/** The Jupyter command; `CAPTIONING_JUPYTER` overrides it (e.g. a virtualenv's jupyter). */
export function jupyterCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAPTIONING_JUPYTER || 'jupyter';
}

export interface RunNotebookOptions {
  /** Folder for the executed copy; default: overwrite the notebook itself on success. */
  outDir?: string;
  /** Seconds one cell may run before nbconvert stops it (default 3600). */
  cellTimeoutSeconds?: number;
  /** Progress and error lines; default stderr. */
  log?: (line: string) => void;
}

export interface NotebookResult {
  notebook: string;
  ok: boolean;
  seconds: number;
  /** Where the executed notebook was written (success only). */
  output?: string;
  /** The failing cell and its error, or the unhandled rejection, as Jupyter reported it. */
  error?: string;
}

/** The notebooks of a folder in chapter order, skipping hidden files and checkpoints. */
export function listNotebooks(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.ipynb') && !name.startsWith('.'))
    .sort()
    .map((name) => path.join(dir, name));
}

/** nbconvert's message for a cell that failed. */
const CELL_ERROR = 'An error occurred while executing the following cell:';

/** Pulls the failing cell and its error out of nbconvert's output. */
export function extractNotebookError(output: string): string | undefined {
  const cell = output.indexOf(CELL_ERROR);
  return cell >= 0 ? output.slice(cell).trim() : undefined;
}

/**
 * What tslab prints on the current cell's stderr when a rejection or exception escapes a
 * cell, e.g. from an async function called without `await`. The cell itself returned fine,
 * so only the saved outputs show it.
 */
const ESCAPED_ERROR = /^(UnhandledPromiseRejection|UncaughtException):/m;

interface SavedCell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; name?: string; text?: string | string[] }[];
}

const joined = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join('') : text ?? '');

/** Errors that escaped their cell, found in an executed notebook's stderr outputs. */
export function findEscapedErrors(notebookJson: string): string[] {
  const cells = (JSON.parse(notebookJson) as { cells: SavedCell[] }).cells;
  const found: string[] = [];
  cells.forEach((cell, index) => {
    for (const output of cell.outputs ?? []) {
      if (output.output_type !== 'stream' || output.name !== 'stderr') continue;
      const text = joined(output.text);
      const match = ESCAPED_ERROR.exec(text);
      if (!match) continue;
      const error = text.slice(match.index).split('\n').slice(0, 20).join('\n').trim();
      found.push(`An error escaped cell ${index + 1} (an async call without await?):\n${joined(cell.source)}\n------------------\n${error}`);
    }
  });
  return found;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(
              `'${command}' was not found: install Jupyter's nbconvert (Debian: apt-get install jupyter-nbconvert ` +
                `jupyter-client; pip: pip install nbconvert) or set CAPTIONING_JUPYTER to the jupyter command`,
            )
          : error,
      ),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function logToStderr(line: string): void {
  process.stderr.write(line + '\n');
}

/** Executes one notebook; never throws for a cell error, returns it instead. */
export async function runNotebook(notebook: string, options: RunNotebookOptions = {}): Promise<NotebookResult> {
  const log = options.log ?? logToStderr;
  const file = path.resolve(notebook);
  if (!fs.existsSync(file)) throw new Error(`notebook not found: ${notebook}`);
  const dir = path.dirname(file);
  const scratch = path.join(dir, '.executing');
  fs.mkdirSync(scratch, { recursive: true });
  const executed = path.join(scratch, path.basename(file));
  const env = {
    ...process.env,
    JUPYTER_PATH: [path.join(PROJECT_ROOT, 'jupyter'), process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
  };
  const args = [
    'nbconvert',
    '--to',
    'notebook',
    '--execute',
    `--ExecutePreprocessor.timeout=${options.cellTimeoutSeconds ?? 3600}`,
    '--output-dir',
    scratch,
    '--output',
    path.basename(file),
    file,
  ];
  const started = Date.now();
  const { code, output } = await run(jupyterCommand(), args, env, dir);
  const seconds = (Date.now() - started) / 1000;
  const escaped = fs.existsSync(executed) ? findEscapedErrors(fs.readFileSync(executed, 'utf8')) : [];
  const error =
    extractNotebookError(output) ??
    (code !== 0 ? `nbconvert exited with code ${code}:\n${output.trim()}` : undefined) ??
    (escaped.length > 0 ? escaped.join('\n\n') : undefined);
  if (error || !fs.existsSync(executed)) {
    fs.rmSync(executed, { force: true });
    const message = error ?? `nbconvert wrote no output:\n${output.trim()}`;
    log(`✘ ${path.basename(file)} failed after ${seconds.toFixed(1)} s\n${message}`);
    return { notebook: file, ok: false, seconds, error: message };
  }
  const target = options.outDir ? path.join(path.resolve(options.outDir), path.basename(file)) : file;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (options.outDir) {
    // Possibly another file system: copy, then drop the scratch copy.
    fs.copyFileSync(executed, target);
    fs.rmSync(executed);
  } else {
    fs.renameSync(executed, target);
  }
  log(`✔ ${path.basename(file)} (${seconds.toFixed(1)} s)`);
  return { notebook: file, ok: true, seconds, output: target };
}

/** Executes notebooks in order, going on after a failure so that every error is reported. */
export async function runNotebooks(notebooks: string[], options: RunNotebookOptions = {}): Promise<NotebookResult[]> {
  const results: NotebookResult[] = [];
  for (const [i, notebook] of notebooks.entries()) {
    (options.log ?? logToStderr)(`▶ [${i + 1}/${notebooks.length}] ${path.relative(process.cwd(), notebook)}`);
    results.push(await runNotebook(notebook, options));
  }
  return results;
}
