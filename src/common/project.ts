/**
 * The project root, and paths relative to it. Relative paths in configs (data folders, feature
 * caches, model folders) mean the same file from the CLI (run anywhere) and from a notebook
 * (whose kernel runs in notebooks/): they are relative to the project root.
 */
import * as path from 'path';

/** The repository root (this file is src/common/project.ts). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** An absolute path: `p` itself when absolute, else `p` under the project root. */
export function projectPath(p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(PROJECT_ROOT, p);
}

/** The variable that moves report/ (e.g. CI's notebook execution writes its figures and tables elsewhere). */
export const REPORT_ENV_VAR = 'CAPTIONING_REPORT';

/** Where figures, tables and the report document go: $CAPTIONING_REPORT (relative: to the project root), else <project>/report. */
export function reportRoot(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[REPORT_ENV_VAR]?.trim();
  return fromEnv ? projectPath(fromEnv) : path.join(PROJECT_ROOT, 'report');
}
