/**
 * A file's bytes, or undefined when it does not exist (any other error is thrown): how the
 * caches read an entry that may not have been written yet.
 *
 *   const bytes = await readIfExists(file);   // Buffer | undefined
 */
import * as fs from 'fs';

function missing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.promises.readFile(file);
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
}

export function readIfExistsSync(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
}
