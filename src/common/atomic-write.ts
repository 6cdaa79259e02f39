/**
 * Atomic file writes: write a temporary file beside the target, then rename it over the
 * target, so that a reader (or a crash) never sees a half-written file and what was there
 * before survives a failed write.
 */
import * as fs from 'fs';
import * as path from 'path';

let counter = 0;

/** Writes `data` to `file` atomically, creating the folder when needed. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
  try {
    await fs.promises.writeFile(temp, data);
    await fs.promises.rename(temp, file);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
}
