/**
 * One output of a notebook cell updated in place (a Jupyter display with a display id):
 * the first `update` sends display_data with a transient display_id, later ones
 * update_display_data for the same id, at most twice a second (an update that comes sooner
 * is held and sent when the half second is over, so the output never stays behind), and
 * `close` sends the last text held. Outside a tslab kernel cell `liveDisplay()` is undefined
 * and callers print lines instead.
 *
 *   const display = liveDisplay();
 *   display?.update('epoch 3/20: loss 1.23 (ETA 2 min 10 s)');
 *   display?.close();
 *
 * The kernel is found without loading it: a process is in a kernel when tslab's jupyter
 * module is already loaded (the kernel loaded it) and a cell has started
 * (`lastWriteDisplayData`, see src/viz/display.ts). The writer is taken when the display is
 * made, so a display keeps updating the cell it started in. A CLI or training child never
 * loads tslab (nor the TypeScript compiler it pulls in) through this module.
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
    const loaded = require.cache[require.resolve('tslab/dist/jupyter')];
    const jupyter = loaded?.exports as { lastWriteDisplayData?: WriteDisplayData | null } | undefined;
    return jupyter?.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The current tslab cell as an opaque token (it changes when the next cell starts), or
 * undefined outside a kernel cell: lets progress reporters share one display per cell.
 */
export function kernelCell(): object | undefined {
  return kernelWriter();
}

export interface LiveDisplayOptions {
  /** Least time between two messages (default 500 ms: at most 2 a second). */
  intervalMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** A display updated in place in the current notebook cell; undefined outside a tslab kernel cell. */
export function liveDisplay(options: LiveDisplayOptions = {}): LiveDisplay | undefined {
  const write = kernelWriter();
  if (!write) return undefined;
  const id = `captioning-lab-${randomUUID()}`;
  const interval = options.intervalMs ?? 500;
  const now = options.now ?? Date.now;
  let shown = false;
  let closed = false;
  let last = 0;
  let pending: { text: string; html?: string } | undefined;
  let timer: NodeJS.Timeout | undefined;

  const send = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const data: Record<string, unknown> = { 'text/plain': pending.text };
    if (pending.html !== undefined) data['text/html'] = pending.html;
    pending = undefined;
    try {
      write({ data, metadata: {}, transient: { display_id: id } }, shown);
    } catch {
      // The kernel's channel is gone (kernel shutting down): progress must not fail the work.
    }
    shown = true;
    last = now();
  };

  return {
    update(text, html) {
      if (closed) return;
      pending = html === undefined ? { text } : { text, html };
      const wait = shown ? last + interval - now() : 0;
      if (wait <= 0) send();
      else if (!timer) {
        timer = setTimeout(send, wait);
        timer.unref?.();
      }
    },
    close() {
      if (closed) return;
      closed = true;
      send();
    },
  };
}
