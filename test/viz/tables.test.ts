// Tables in notebooks: show() sends a DataFrame (or a run table, or records) as HTML with a
// text/plain copy through the kernel's display channel.
import { strict as assert } from 'node:assert';
import { after, test } from 'node:test';

import { show, tableBundle } from '../../src/viz/display';
import { formatCell, tableOf, textTable } from '../../src/viz/tables';

// tslab's jupyter module holds the display channel of the executing cell.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
after(() => {
  jupyter.lastWriteDisplayData = null;
});

test('show(DataFrame) sends an HTML table and a text table to the notebook', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  const df = new dfd.DataFrame([['baseline-3f2a', 0.21104, '<b>'], ['bert-9c0d', 0.268, 'x']], { columns: ['id', 'BLEU-4 (test, free-running, beam 3)', 'note'] });
  const sent: { data: Record<string, string> }[] = [];
  jupyter.lastWriteDisplayData = (content: { data: Record<string, string> }) => sent.push(content);
  await show(df);
  assert.equal(sent.length, 1);
  const html = sent[0].data['text/html'];
  assert.match(html, /<th>BLEU-4 \(test, free-running, beam 3\)<\/th>/);
  assert.match(html, /<td style="text-align:right">0\.211<\/td>/);
  assert.match(html, /<td>&lt;b&gt;<\/td>/, 'cells are escaped');
  const text = sent[0].data['text/plain'].split('\n');
  assert.match(text[0], /^id\s+BLEU-4 \(test, free-running, beam 3\)\s+note$/);
  assert.match(text[2], /^baseline-3f2a\s+0\.211\s+<b>$/);
  assert.equal(sent[0].data['image/png'], undefined, 'a table needs no browser');

  // Sorted frames keep their row labels.
  const sorted = df.sortValues('BLEU-4 (test, free-running, beam 3)', { ascending: false });
  assert.deepEqual(tableOf(sorted).index, [1, 0]);
});

test('run tables and records display the same way; cells are formatted', () => {
  const bundle = tableBundle({ columns: ['id', 'value'], rows: [{ id: 'a', value: 1 }, { id: 'b', value: null }] });
  assert.match(String(bundle.data['text/plain']), /^id  value\n--  -----\na       1\nb\s*\n$/);
  assert.deepEqual(tableOf([{ a: 1 }, { b: 'x' }]), { columns: ['a', 'b'], rows: [[1, undefined], [undefined, 'x']] });
  assert.deepEqual([0.123456, 3, 1e-7, null, true].map(formatCell), ['0.1235', '3', '1.00e-7', '', 'true']);
  assert.match(textTable({ columns: ['x'], rows: [] }), /\(no rows\)/);
  assert.throws(() => tableOf(42), /not a table/);
});
