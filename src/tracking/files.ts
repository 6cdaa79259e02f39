/**
 * Reading and writing a run folder's files: JSON written atomically (common/atomic-write.ts),
 * JSON read with errors that name the file, and JSON-lines logs whose damage (an unparseable
 * or truncated line) is reported with the file and line number.
 */
import * as fs from 'fs';

import { writeFileAtomic } from '../common/atomic-write';
import { DamagedRunError } from './errors';

/** Writes `value` as indented JSON, atomically. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** The same, synchronously (signal handlers, exit paths): temp file then rename. */
export function writeJsonSync(file: string, value: unknown): void {
  const temp = `${file}.${process.pid}.sync.tmp`;
  fs.writeFileSync(temp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(temp, file);
}

/** Parses a JSON file; a missing file gives `undefined`, unparseable text a DamagedRunError. */
export function readJsonIfExists<T = unknown>(file: string): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    const excerpt = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new DamagedRunError(file, `not valid JSON (${(error as Error).message}); it starts ${JSON.stringify(excerpt)}`);
  }
}

/** Parses a JSON file that must exist. */
export function readJson<T = unknown>(file: string, what: string): T {
  const value = readJsonIfExists<T>(file);
  if (value === undefined) throw new DamagedRunError(file, `${what} is missing`);
  return value;
}

/** One problem line of a JSON-lines file. */
export interface BadLine {
  line: number;
  reason: string;
}

export interface JsonLines<T> {
  records: T[];
  /** A last line without its newline or unparseable: what a killed writer leaves. */
  truncatedTail?: BadLine;
}

/**
 * Reads a JSON-lines file. Every line must parse as a JSON object; the last line may be
 * reported as `truncatedTail` (no final newline, or unparseable) when `allowTruncatedTail`,
 * otherwise any bad line is a DamagedRunError naming the file and the line.
 */
export function readJsonLines<T = Record<string, unknown>>(file: string, options: { allowTruncatedTail?: boolean } = {}): JsonLines<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [] };
    throw error;
  }
  if (text.length === 0) return { records: [] };
  const lines = text.split('\n');
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  const records: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const isLast = i === lines.length - 1;
    let reason: string | undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(lines[i]);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) reason = 'not a JSON object';
    } catch (error) {
      reason = `not valid JSON (${(error as Error).message})`;
    }
    if (isLast && !endsWithNewline && reason === undefined) reason = 'no final newline: the write was cut short';
    if (reason !== undefined) {
      const bad = { line: i + 1, reason };
      if (isLast && options.allowTruncatedTail) return { records, truncatedTail: bad };
      throw new DamagedRunError(file, `line ${i + 1} is ${isLast ? 'truncated' : 'damaged'}: ${reason}`);
    }
    records.push(parsed as T);
  }
  return { records };
}
