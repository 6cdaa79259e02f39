/**
 * METEOR through the official meteor-1.5.jar, speaking the toolkit's stdio protocol
 * (pycocoevalcap `meteor.py`).
 *
 * The jar runs as `java -jar -Xmx2G meteor-1.5.jar - - -stdio -l en -norm` from its own
 * folder. For each image we send `SCORE ||| ref 1 ||| ... ||| ref n ||| hypothesis` and
 * read back one line of statistics; then `EVAL ||| stats 1 ||| ... ||| stats N` returns N
 * per-image scores, one per line, and a last line with the corpus score (METEOR's own
 * aggregate, not a mean of the per-image scores). Captions are the tokenized ones; the
 * hypothesis has `|||` removed and double spaces made single, as the toolkit does.
 */
import { spawn } from 'child_process';
import * as path from 'path';

import { tail, type JavaCommand } from './java';

export interface MeteorResult {
  corpus: number;
  perImage: number[];
}

/** The toolkit's command line for the jar. */
export function meteorCommand(java: string, jar: string): JavaCommand {
  return {
    command: java,
    args: ['-jar', '-Xmx2G', jar, '-', '-', '-stdio', '-l', 'en', '-norm'],
    cwd: path.dirname(jar),
  };
}

/** Python's `str.replace(old, new)`: every non-overlapping occurrence, left to right. */
function pyReplace(s: string, from: string, to: string): string {
  return s.split(from).join(to);
}

/** The `SCORE` line for one image. */
export function meteorScoreLine(hypothesis: string, references: readonly string[]): string {
  const hyp = pyReplace(pyReplace(hypothesis, '|||', ''), '  ', ' ');
  return ['SCORE', references.join(' ||| '), hyp].join(' ||| ');
}

/** The `EVAL` line from the per-image statistics lines. */
export function meteorEvalLine(stats: readonly string[]): string {
  return ['EVAL', ...stats].join(' ||| ');
}

/** Reads a child's stdout line by line, on demand. */
class LineReader {
  private buffer = '';
  private readonly lines: string[] = [];
  private readonly waiting: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;

  push(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const w = this.waiting.shift();
      if (w) w.resolve(line);
      else this.lines.push(line);
    }
  }

  fail(error: Error): void {
    this.failure = error;
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

function parseScore(line: string, what: string): number {
  const value = Number(line.trim());
  if (line.trim() === '' || !Number.isFinite(value)) {
    throw new Error(`METEOR returned ${JSON.stringify(line)} for ${what}, expected a number`);
  }
  return value;
}

/**
 * Scores tokenized captions with the jar: `references[i]` and `hypotheses[i]` belong to
 * image i. Rejects if Java cannot start or the jar stops answering.
 */
export async function runMeteor(
  cmd: JavaCommand,
  references: readonly (readonly string[])[],
  hypotheses: readonly string[],
): Promise<MeteorResult> {
  const child = spawn(cmd.command, cmd.args, { cwd: cmd.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const reader = new LineReader();
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => reader.push(d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.on('error', (err) => reader.fail(new Error(`could not start ${cmd.command}: ${err.message}`)));
  child.on('close', (code) => reader.fail(new Error(`METEOR exited (code ${code}) before answering: ${tail(stderr)}`)));
  child.stdin.on('error', () => undefined); // reported through 'close'
  const send = (line: string): void => {
    child.stdin.write(`${line}\n`, 'utf8');
  };
  try {
    const stats: string[] = [];
    for (let i = 0; i < hypotheses.length; i++) {
      send(meteorScoreLine(hypotheses[i], references[i]));
      stats.push((await reader.next()).trim());
    }
    send(meteorEvalLine(stats));
    const perImage: number[] = [];
    for (let i = 0; i < hypotheses.length; i++) perImage.push(parseScore(await reader.next(), `image ${i}`));
    const corpus = parseScore(await reader.next(), 'the corpus');
    return { corpus, perImage };
  } finally {
    child.stdin.end();
    child.kill();
  }
}
