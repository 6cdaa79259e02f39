// Progress of long phases and of training: a bar on a terminal, a line at most every interval
// (with rate and ETA, each count once) without one, the cell's live display in a notebook;
// one line per epoch with its metrics, time and the run's ETA. The clock is a fake one.
import { strict as assert } from 'node:assert';
import { mock, test } from 'node:test';

import { phaseProgress } from '../../src/common/phase-progress';
import { formatDuration, formatEta, formatRate } from '../../src/common/progress-text';
import { createProgress } from '../../src/common/run-progress';

function fakeStream(tty: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY: tty, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('one line per epoch, with the ETA from the mean epoch time', () => {
  const lines: string[] = [];
  const p = createProgress({ runId: 'baseline-abc', epochs: 4, startEpoch: 1, log: (l) => lines.push(l), stream: fakeStream(false) });
  p.epochStart(1);
  p.epochEnd(1, { loss: 0.51234, val_loss: null }, 10);
  p.epochStart(2);
  p.epochEnd(2, { loss: 0.4 }, 20, 'best so far');
  p.epochStart(3);
  p.epochEnd(3, { loss: 0.3 }, 30);
  assert.deepEqual(lines, [
    '[captioning-lab] baseline-abc epoch 2/4: loss 0.5123, val_loss null (10.0 s; ETA 20.0 s)',
    '[captioning-lab] baseline-abc epoch 3/4: loss 0.4000 (20.0 s; ETA 15.0 s); best so far',
    '[captioning-lab] baseline-abc epoch 4/4: loss 0.3000 (30.0 s)',
  ]);
  assert.deepEqual([59.94, 61, 3 * 3600 + 125].map(formatDuration), ['59.9 s', '1 min 01 s', '3 h 02 min']);
  assert.deepEqual([0, 26.4, 90, Infinity].map(formatEta), ['0 s', '26 s', '1 min 30 s', '?']);
  assert.deepEqual([1234.5, 7.94, 0.4236].map(formatRate), ['1235', '7.9', '0.42']);
});

test('on a terminal a step bar with rate and ETA is drawn in place and cleared before the epoch line', () => {
  const stream = fakeStream(true);
  const clock = fakeClock();
  const lines: string[] = [];
  const p = createProgress({ runId: 'r', epochs: 2, startEpoch: 0, log: (l) => lines.push(l), stream, now: clock.now });
  p.epochStart(0);
  p.setSteps(4);
  for (let i = 1; i <= 4; i++) {
    clock.advance(1000);
    p.step(i, { loss: 1 / i });
  }
  p.epochEnd(0, { loss: 0.5 }, 4);
  assert.match(stream.text, /\r\x1b\[K\[captioning-lab\] r epoch 1\/2 \[=+ *\] 1\/4 steps, 1\.0 steps\/s, ETA 3 s · loss 1\.000/);
  assert.match(stream.text, /\[={24}\] 4\/4 steps, 1\.0 steps\/s, ETA 0 s · loss 0\.2500/, 'the last step is always drawn');
  assert.ok(stream.text.endsWith('\r\x1b[K'), 'cleared');
  assert.deepEqual(lines, ['[captioning-lab] r epoch 1/2: loss 0.5000 (4.0 s; ETA 4.0 s)'], 'no plain lines on a terminal, only the epoch line');
  // Redrawn at most 10 times a second: 100 steps within 50 ms draw once (and the last).
  const fast = fakeStream(true);
  const q = createProgress({ runId: 'r', epochs: 1, startEpoch: 0, log: () => {}, stream: fast, now: clock.now });
  q.epochStart(0);
  q.setSteps(100);
  for (let i = 1; i <= 100; i++) {
    if (i % 2 === 0) clock.advance(1);
    q.step(i, { loss: 1 });
  }
  assert.equal(fast.text.split('\r\x1b[K').filter(Boolean).length, 2, fast.text);
});

test('without a terminal, a plain line with rate and ETA at most every interval, each count once, none for the last step', () => {
  const stream = fakeStream(false);
  const clock = fakeClock();
  const lines: string[] = [];
  const p = createProgress({ runId: 'r', epochs: 2, startEpoch: 0, log: (l) => lines.push(l), stream, now: clock.now, intervalMs: 30_000 });
  p.epochStart(0);
  p.setSteps(12);
  for (let i = 1; i <= 12; i++) {
    clock.advance(7_000); // steps at 7 s, 14 s, ... 84 s
    p.step(i, { loss: 2 / i });
  }
  p.epochEnd(0, { loss: 0.2 }, 84);
  assert.equal(stream.text, '', 'no bar');
  assert.deepEqual(lines, [
    // 35 s (step 5) is the first tick 30 s after the start, 70 s (step 10) the next one 30 s later.
    '[captioning-lab] r epoch 1/2: 5/12 steps, 0.14 steps/s, ETA 49 s · loss 0.4000',
    '[captioning-lab] r epoch 1/2: 10/12 steps, 0.14 steps/s, ETA 14 s · loss 0.2000',
    '[captioning-lab] r epoch 1/2: loss 0.2000 (1 min 24 s; ETA 1 min 24 s)',
  ]);
  assert.equal(new Set(lines).size, lines.length, 'no line twice');
  // mode 'none' prints nothing at all.
  const quiet: string[] = [];
  const q = createProgress({ runId: 'r', epochs: 1, startEpoch: 0, log: (l) => quiet.push(l), stream, now: clock.now, mode: 'none' });
  q.epochStart(0);
  q.setSteps(2);
  clock.advance(60_000);
  q.step(1, { loss: 1 });
  q.epochEnd(0, { loss: 1 }, 60);
  assert.deepEqual(quiet, []);
});

test('a phase: lines within the interval, the same count never twice, a final line with rate and time', () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const phase = phaseProgress({ label: 'features', total: 100, unit: 'images', log: (l) => lines.push(l), stream: fakeStream(false), now: clock.now, intervalMs: 10_000 });
  clock.advance(4_000);
  phase.tick(20);
  assert.deepEqual(lines, [], 'nothing before the interval');
  clock.advance(8_000);
  phase.tick(20);
  assert.deepEqual(lines, ['features: 40/100 images, 3.3 images/s, ETA 18 s']);
  clock.advance(30_000);
  phase.tick(0);
  assert.equal(lines.length, 1, 'a count already reported is not reported again, however late');
  phase.tick(40);
  assert.equal(lines[1], 'features: 80/100 images, 1.9 images/s, ETA 11 s');
  clock.advance(30_000);
  phase.tick(20);
  assert.equal(lines.length, 2, 'the last unit is left to the final line');
  phase.done('30 cached');
  phase.done();
  phase.tick(5);
  assert.deepEqual(lines.slice(2), ['features: 100/100 images, 1.4 images/s, ETA 0 s; done in 1 min 12 s; 30 cached'], 'one final line');
  // Unknown total: no ETA; a count-based line on request; an early end says so.
  const more: string[] = [];
  const open = phaseProgress({ label: 'BERT causal vectors', unit: 'captions', log: (l) => more.push(l), stream: fakeStream(false), now: clock.now, everyCount: 256 });
  clock.advance(2_000);
  open.tick(256);
  clock.advance(2_000);
  open.tick(100);
  open.done();
  assert.deepEqual(more, ['BERT causal vectors: 256 captions, 128 captions/s', 'BERT causal vectors: 356 captions, 89.0 captions/s; done in 4.0 s']);
  const cut: string[] = [];
  const stopped = phaseProgress({ label: 'x', total: 10, log: (l) => cut.push(l), stream: fakeStream(false), now: clock.now });
  clock.advance(1_000);
  stopped.tick(5);
  stopped.done();
  assert.deepEqual(cut, ['x: 5/10 items, 5.0 items/s, ETA 1 s; ended in 1.0 s']);
  // No rate from (almost) no time: unknown, not a billion a second.
  const bar = fakeStream(true);
  const early = phaseProgress({ label: 'y', total: 10, log: () => {}, stream: bar, now: clock.now });
  early.tick(1);
  assert.match(bar.text, /y \[=* *\] 1\/10 items, \? items\/s, ETA \?$/);
});

test('a phase on a terminal draws a bar and logs only its final line; log null is silent', () => {
  const stream = fakeStream(true);
  const clock = fakeClock();
  const lines: string[] = [];
  const phase = phaseProgress({ label: 'decoding val (beam 3)', total: 4, unit: 'images', log: (l) => lines.push(l), stream, now: clock.now });
  clock.advance(500);
  phase.tick(2);
  clock.advance(500);
  phase.tick(2);
  phase.done();
  assert.match(stream.text, /^\r\x1b\[Kdecoding val \(beam 3\) \[={12} {12}\] 2\/4 images, 4\.0 images\/s, ETA 1 s/);
  assert.ok(stream.text.endsWith('\r\x1b[K'));
  assert.deepEqual(lines, ['decoding val (beam 3): 4/4 images, 4.0 images/s, ETA 0 s; done in 1.0 s']);
  const silentStream = fakeStream(true);
  const silent = phaseProgress({ label: 'x', total: 2, log: null, stream: silentStream, now: clock.now });
  clock.advance(60_000);
  silent.tick(2);
  silent.done();
  assert.equal(silentStream.text, '');
});

test('in a notebook cell: one live display for the run, epoch lines to the log, emptied after the last epoch', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const messages: { update: boolean; text: string; html?: string; id: unknown }[] = [];
  // The kernel's display channel as tslab holds it while a cell runs (see src/common/live-display.ts).
  const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  jupyter.lastWriteDisplayData = (content: { data: Record<string, string>; transient: { display_id: unknown } }, update: boolean) =>
    messages.push({ update, text: content.data['text/plain'], html: content.data['text/html'], id: content.transient.display_id });
  t.after(() => (jupyter.lastWriteDisplayData = null));

  const lines: string[] = [];
  const p = createProgress({ runId: 'r', epochs: 2, startEpoch: 0, log: (l) => lines.push(l), stream: fakeStream(false), intervalMs: 30_000 });
  for (let epoch = 0; epoch < 2; epoch++) {
    p.epochStart(epoch);
    p.setSteps(10);
    for (let i = 1; i <= 10; i++) {
      mock.timers.tick(20_000);
      p.step(i, { loss: 1 / i });
    }
    // Validation decoding within the epoch shows in the same display, as a second row.
    const decoding = phaseProgress({ label: 'decoding val (greedy)', total: 8, unit: 'images', log: (l) => lines.push(l) });
    mock.timers.tick(1_000);
    decoding.tick(4);
    mock.timers.tick(1_000);
    decoding.tick(4);
    decoding.done();
    p.epochEnd(epoch, { loss: 0.1 }, 202, epoch === 0 ? 'best so far' : undefined);
  }
  mock.timers.tick(1_000);

  assert.ok(messages.length > 4, `${messages.length} messages`);
  assert.equal(messages[0].update, false, 'one display_data first');
  assert.ok(messages.slice(1).every((m) => m.update), 'then update_display_data only');
  assert.equal(new Set(messages.map((m) => m.id)).size, 1, 'all for one display id');
  assert.match(messages[0].text, /^\[captioning-lab\] r epoch 1\/2: 1\/10 steps, 0\.050 steps\/s, ETA 3 min 00 s · loss 1\.000$/);
  assert.match(messages[0].html ?? '', /<progress max="10" value="1"/);
  const both = messages.find((m) => m.text.includes('decoding val') && m.text.includes('epoch 1/2'));
  assert.ok(both, 'the epoch and its validation decoding side by side');
  assert.equal(both.text.split('\n').length, 2);
  assert.equal(messages.at(-1)!.text, '', 'emptied when the run ends: the log holds its lines');
  assert.deepEqual(lines, [
    'decoding val (greedy): 8/8 images, 4.0 images/s, ETA 0 s; done in 2.0 s',
    '[captioning-lab] r epoch 1/2: loss 0.1000 (3 min 22 s; ETA 3 min 22 s); best so far',
    'decoding val (greedy): 8/8 images, 4.0 images/s, ETA 0 s; done in 2.0 s',
    '[captioning-lab] r epoch 2/2: loss 0.1000 (3 min 22 s)',
  ], 'no step lines in the log: the display shows them');
  const count = messages.length;
  p.close?.();
  mock.timers.tick(5_000);
  assert.equal(messages.length, count, 'closing again sends nothing');

  // The cell's next phase reuses its output: one progress output per cell.
  const later = phaseProgress({ label: 'features', total: 2, unit: 'images', log: (l) => lines.push(l) });
  mock.timers.tick(1_000);
  later.tick(1);
  later.done();
  mock.timers.tick(1_000);
  const after = messages.slice(count);
  assert.ok(after.length >= 2 && after.every((m) => m.update && m.id === messages[0].id), 'the same display, updated');
  assert.match(after[0].text, /^features: 1\/2 images, 1\.0 images\/s, ETA 1 s$/);
  assert.equal(after.at(-1)!.text, '');
  // The next cell gets a display of its own.
  const cell2: typeof messages = [];
  jupyter.lastWriteDisplayData = (content: { data: Record<string, string>; transient: { display_id: unknown } }, update: boolean) =>
    cell2.push({ update, text: content.data['text/plain'], id: content.transient.display_id });
  const next = phaseProgress({ label: 'features', total: 2, unit: 'images', log: () => {} });
  mock.timers.tick(1_000);
  next.tick(1);
  next.done();
  assert.equal(cell2[0].update, false);
  assert.notEqual(cell2[0].id, messages[0].id);
});
