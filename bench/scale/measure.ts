/**
 * Runs one stage of the scale benchmark in a process of its own, so that each stage's peak
 * memory is its own: the child (bench/scale/stage.ts) does the work and reports its wall
 * time, its peak resident set (`process.resourceUsage().maxRSS`) and any figures of its own
 * as one JSON line on stdout.
 *
 *   const result = await runStage('dataset', { dir, images: 4000 });   // { name, seconds, peakRssMB, ... }
 */
import { spawn } from 'child_process';
import * as path from 'path';

export interface StageResult {
  name: string;
  seconds: number;
  peakRssMB: number;
  /** Figures the stage measured besides time and memory (e.g. the input wait share). */
  [figure: string]: string | number;
}

export interface StageRequest {
  dir: string;
  images: number;
}

const MARK = 'bench-scale-result ';
/** A stage still running after this long is stopped and reported as failed (a benchmark never hangs). */
export const STAGE_TIMEOUT_MS = 20 * 60 * 1000;

/** Starts `tsx bench/scale/stage.ts <stage> <json request>` and returns what it reports; its other output goes to stderr. */
export function runStage(name: string, request: StageRequest, log: (line: string) => void, timeoutMs = STAGE_TIMEOUT_MS): Promise<StageResult> {
  const script = path.join(__dirname, 'stage.ts');
  const tsx = require.resolve('tsx/cli');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, script, name, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let result: StageResult | undefined;
    let tail = '';
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith(MARK)) result = JSON.parse(line.slice(MARK.length)) as StageResult;
        else log(`  [${name}] ${line}`);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(`  [${name}] ${line}`);
    });
    const timer = setTimeout(() => {
      tail += `\n(stopped after ${timeoutMs / 60000} min)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && result) resolve(result);
      else reject(new Error(`bench scale: stage ${name} exited with code ${code}${result ? '' : ' without a result'}; its last output:\n${tail}`));
    });
  });
}

/** What a stage process prints last: its figures with its time and peak memory. */
export function reportStage(name: string, startedAt: number, figures: Record<string, string | number> = {}): void {
  const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024); // maxRSS is in KiB
  const result: StageResult = { name, seconds: Math.round((performance.now() - startedAt) / 10) / 100, peakRssMB, ...figures };
  process.stdout.write(MARK + JSON.stringify(result) + '\n');
}
