/**
 * One output of a notebook cell updated in place (a Jupyter display with a display id):
 * the first `update` sends display_data, later ones update_display_data for the same id, at
 * most twice a second, and `close` sends the last text. Outside a tslab kernel cell,
 * `liveDisplay()` is undefined and callers print lines instead.
 *
 *   const display = liveDisplay();
 *   display?.update('epoch 3/20: loss 1.23 (ETA 2 min 10 s)');
 *   display?.close();
 */
import { randomUUID } from 'crypto';

export interface LiveDisplay {
  update(text: string, html?: string): void;
  close(): void;
}

type WriteDisplayData = (content: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

/** The running tslab kernel's display writer for the current cell, or undefined outside a kernel. */
function kernelWriter(): WriteDisplayData | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData?: WriteDisplayData | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

export function liveDisplay(options: { intervalMs?: number; now?: () => number } = {}): LiveDisplay | undefined {
  const write = kernelWriter();
  if (!write) return undefined;
  const id = randomUUID();
  const interval = options.intervalMs ?? 500;
  const now = options.now ?? Date.now;
  let shown = false;
  let last = 0;
  let pending: { text: string; html?: string } | undefined;
  const send = (content: { text: string; html?: string }) => {
    const data: Record<string, unknown> = { 'text/plain': content.text };
    if (content.html !== undefined) data['text/html'] = content.html;
    write({ data, metadata: {}, transient: { display_id: id } }, shown);
    shown = true;
    last = now();
    pending = undefined;
  };
  return {
    update(text, html) {
      pending = { text, html };
      if (!shown || now() - last >= interval) send(pending);
    },
    close() {
      if (pending) send(pending);
    },
  };
}
