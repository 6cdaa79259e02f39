// Training progress: a line per epoch with its metrics, time and the run's ETA; a bar over the
// steps on a terminal, cleared before each epoch line.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { createProgress, formatDuration } from '../../src/tracking/progress';

function fakeStream(tty: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY: tty, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test('one line per epoch, with the ETA from the mean epoch time', () => {
  const lines: string[] = [];
  const p = createProgress({ runId: 'baseline-abc', epochs: 4, startEpoch: 1, log: (l) => lines.push(l), stream: fakeStream(false) });
  p.epochStart(1);
  p.epochEnd(1, { loss: 0.51234, val_loss: null }, 10);
  p.epochStart(2);
  p.epochEnd(2, { loss: 0.4 }, 20);
  p.epochStart(3);
  p.epochEnd(3, { loss: 0.3 }, 30);
  assert.deepEqual(lines, [
    '[captioning-lab] baseline-abc epoch 2/4: loss 0.5123, val_loss null (10.0 s; ETA 20.0 s)',
    '[captioning-lab] baseline-abc epoch 3/4: loss 0.4000 (20.0 s; ETA 15.0 s)',
    '[captioning-lab] baseline-abc epoch 4/4: loss 0.3000 (30.0 s)',
  ]);
  assert.deepEqual([59.94, 61, 3 * 3600 + 125].map(formatDuration), ['59.9 s', '1 min 01 s', '3 h 02 min']);
});

test('on a terminal a step bar is drawn in place and cleared before the epoch line', () => {
  const stream = fakeStream(true);
  const lines: string[] = [];
  const p = createProgress({ runId: 'r', epochs: 2, startEpoch: 0, log: (l) => lines.push(l), stream });
  p.epochStart(0);
  p.setSteps(4);
  for (let i = 1; i <= 4; i++) p.step(i, { loss: 1 / i });
  p.epochEnd(0, { loss: 0.5 }, 1);
  assert.match(stream.text, /\r\x1b\[Kepoch 1\/2 \[=+ *\] 1\/4 loss 1\.000/);
  assert.match(stream.text, /\[={24}\] 4\/4 loss 0\.2500/, 'the last step is always drawn');
  assert.ok(stream.text.endsWith('\r\x1b[K'), 'cleared');
  assert.equal(lines.length, 1);
  const quiet = fakeStream(false);
  const q = createProgress({ runId: 'r', epochs: 2, startEpoch: 0, log: () => {}, stream: quiet, mode: 'auto' });
  q.epochStart(0);
  q.step(1, { loss: 1 });
  assert.equal(quiet.text, '', 'no bar when not a terminal');
});
