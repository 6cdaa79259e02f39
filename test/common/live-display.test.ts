// A notebook cell's live display: one display_data, then update_display_data for the same
// display id at most twice a second (a held update is sent when the half second is over),
// the last text on close; none outside a tslab kernel cell. The kernel's display channel is a
// fake put where tslab keeps it; the clock is Node's mock timers.
import { strict as assert } from 'node:assert';
import { mock, test } from 'node:test';

import { kernelCell, liveDisplay } from '../../src/common/live-display';

interface Sent {
  cell: string;
  update: boolean;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: Record<string, unknown>;
}

const sent: Sent[] = [];
const writer = (cell: string) => (content: Omit<Sent, 'cell' | 'update'>, update: boolean) => sent.push({ cell, update, ...content });

test('outside a kernel cell there is no live display, and tslab is not loaded to find out', () => {
  const jupyterModule = require.resolve('tslab/dist/jupyter');
  assert.equal(liveDisplay(), undefined);
  assert.equal(kernelCell(), undefined);
  assert.equal(require.cache[jupyterModule], undefined, 'a CLI process does not load tslab (nor TypeScript) for progress');
  // A kernel process between cells (tslab loaded, no cell has started yet): none either.
  const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  assert.equal(jupyter.lastWriteDisplayData, null);
  assert.equal(liveDisplay(), undefined);
});

test('one output updated in place, throttled to 2 a second, the last text sent on close', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  jupyter.lastWriteDisplayData = writer('cell 1');
  t.after(() => (jupyter.lastWriteDisplayData = null));
  sent.length = 0;

  const display = liveDisplay()!;
  assert.ok(display);
  assert.equal(sent.length, 0, 'nothing is shown before the first update');
  display.update('epoch 1: 1/10');
  assert.equal(sent.length, 1, 'the first update is shown at once');
  mock.timers.tick(100);
  display.update('epoch 1: 2/10');
  mock.timers.tick(100);
  display.update('epoch 1: 3/10');
  assert.equal(sent.length, 1, 'updates within half a second are held');
  mock.timers.tick(300);
  assert.equal(sent.length, 2, 'the held update is sent when the half second is over');
  mock.timers.tick(2_000);
  assert.equal(sent.length, 2, 'and only once');
  display.update('epoch 1: 4/10', '<b>epoch 1</b>: 4/10');
  mock.timers.tick(100);
  display.update('epoch 1: 10/10', '<b>epoch 1</b>: 10/10');
  display.close();
  display.update('after close');
  mock.timers.tick(5_000);

  assert.deepEqual(
    sent.map((m) => [m.update, m.data]),
    [
      [false, { 'text/plain': 'epoch 1: 1/10' }],
      [true, { 'text/plain': 'epoch 1: 3/10' }],
      [true, { 'text/plain': 'epoch 1: 4/10', 'text/html': '<b>epoch 1</b>: 4/10' }],
      [true, { 'text/plain': 'epoch 1: 10/10', 'text/html': '<b>epoch 1</b>: 10/10' }],
    ],
  );
  const ids = new Set(sent.map((m) => m.transient.display_id));
  assert.equal(ids.size, 1, 'one display id');
  assert.match(String([...ids][0]), /^captioning-lab-[0-9a-f-]{36}$/);
  assert.ok(sent.every((m) => Object.keys(m.transient).length === 1 && Object.keys(m.metadata).length === 0));
});

test('a display keeps updating the cell it started in; two displays have two ids', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  t.after(() => (jupyter.lastWriteDisplayData = null));
  sent.length = 0;

  jupyter.lastWriteDisplayData = writer('cell 1');
  const first = liveDisplay()!;
  const cell1 = kernelCell();
  first.update('a');
  jupyter.lastWriteDisplayData = writer('cell 2');
  assert.notEqual(kernelCell(), cell1, 'the next cell is another token');
  const second = liveDisplay()!;
  second.update('b');
  mock.timers.tick(600);
  first.update('a2');
  first.close();
  second.close();
  assert.deepEqual(
    sent.map((m) => [m.cell, m.update, m.data['text/plain']]),
    [
      ['cell 1', false, 'a'],
      ['cell 2', false, 'b'],
      ['cell 1', true, 'a2'],
    ],
  );
  assert.notEqual(sent[0].transient.display_id, sent[1].transient.display_id);
  // A close with nothing held sends nothing; a kernel channel that throws does not fail the caller.
  jupyter.lastWriteDisplayData = () => {
    throw new Error('socket closed');
  };
  const broken = liveDisplay()!;
  assert.doesNotThrow(() => {
    broken.update('x');
    broken.close();
  });
});
