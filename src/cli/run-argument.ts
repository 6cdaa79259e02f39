/**
 * A command's `<run>` argument: what `captioning train` prints (the run folder) or the run id,
 * or a unique prefix of the id, so that the folder one command prints is what the next one takes.
 *
 *   captioning eval baseline-3f2a9c1b7d0e           # an id
 *   captioning eval baseline-3f2a                   # a unique prefix (or the 12 hex digits alone)
 *   captioning eval results/runs/baseline-3f2a9c1b7d0e   # a folder, relative or absolute
 *
 * A folder inside the run store (`<results>/runs/<id>`) is opened as that id; a run folder
 * elsewhere (a copied store, another machine's results) is opened from its path. Anything
 * else is an error naming the argument and what it was taken for.
 */
import * as fs from 'fs';
import * as path from 'path';

import { RUN_FILES, runsFolder } from '../tracking/paths';
import { Run } from '../tracking/run';
import { loadRun, resolveRunId } from '../tracking/store';

export interface RunArgumentOptions {
  /** Results root (default: $CAPTIONING_RESULTS, else <project>/results). */
  root?: string;
  /** How the error names the argument, e.g. `eval <run>`. */
  argument?: string;
}

/** Whether the text is written as a path rather than an id (ids have no separators and no leading dot). */
function looksLikePath(text: string): boolean {
  return text.includes('/') || text.includes(path.sep) || text.startsWith('.') || path.isAbsolute(text);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Opens a run folder given by path: through the store when it is one of the store's folders, else from the path. */
function openFolder(folder: string, shown: string, root: string | undefined): Run {
  const dir = realpath(folder);
  const id = path.basename(dir);
  if (realpath(runsFolder(root)) === path.dirname(dir)) return loadRun(id, { root });
  const status = path.join(dir, RUN_FILES.status);
  if (!fs.existsSync(status)) {
    throw new Error(`${shown}: the folder ${dir} is not a run folder (it has no ${RUN_FILES.status}); give a run id, a unique id prefix or the folder that \`captioning train\` printed`);
  }
  // Another store's folder: `<root>/runs/<id>` opens through that store, anything else as it is.
  if (path.basename(path.dirname(dir)) === 'runs') return loadRun(id, { root: path.dirname(path.dirname(dir)) });
  const run = new Run(id, dir);
  if (run.status.status === 'finished') run.validate();
  return run;
}

/** Opens the run a `<run>` argument names: a run id, a unique id prefix, or a run folder (see the module comment). */
export function openRunArgument(text: string, options: RunArgumentOptions = {}): Run {
  const shown = `${options.argument ?? '<run>'} ${JSON.stringify(text)}`;
  if (text.trim() === '') throw new Error(`${shown}: give a run id, a unique id prefix or a run folder`);
  if (looksLikePath(text)) {
    if (isDirectory(text)) return openFolder(text, shown, options.root);
    throw new Error(`${shown}: no such folder (${path.resolve(text)}); give a run id, a unique id prefix or a run folder`);
  }
  let id: string;
  try {
    id = resolveRunId(text, options.root);
  } catch (error) {
    // Not an id of the store: a folder of that name here (e.g. run from inside results/runs) is one.
    if (isDirectory(text)) return openFolder(text, shown, options.root);
    const message = (error as Error).message;
    // An ambiguous prefix says which runs it matches; anything else: say what the argument may be.
    if (/ matches \d+ runs /.test(message)) throw new Error(`${shown}: ${message}`);
    throw new Error(`${shown} is not a run id, a unique id prefix or a run folder: ${message}`);
  }
  return loadRun(id, { root: options.root });
}
