// Attention maps of decoded captions, written and read back through the run's files: an
// empty caption (the model said <end> first) keeps its place with zero maps; a bad shape
// is an error naming the entry.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { readAttention, writeAttention } from '../../src/tracking/artifacts';

test('attention maps round-trip, an empty caption included; a bad grid names its entry', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-files-'));
  try {
    const maps = [
      { imageId: 1, words: ['a', 'red'], shape: [2, 2, 3] as [number, number, number], alphas: Float32Array.from({ length: 12 }, (_, i) => i / 12) },
      { imageId: 2, words: [], shape: [0, 2, 3] as [number, number, number], alphas: new Float32Array(0) },
      { imageId: 3, words: ['star'], shape: [1, 2, 3] as [number, number, number], alphas: Float32Array.from({ length: 6 }, (_, i) => 1 - i / 6) },
    ];
    await writeAttention(dir, 'test', maps);
    const back = readAttention(dir, 'test');
    assert.ok(back);
    assert.deepEqual(back.map((m) => [m.imageId, m.words, m.shape]), maps.map((m) => [m.imageId, m.words, m.shape]));
    back.forEach((m, i) => assert.deepEqual(Array.from(m.alphas), Array.from(maps[i].alphas)));
    await assert.rejects(writeAttention(dir, 'val', [{ imageId: 4, words: [], shape: [0, 0, 3], alphas: new Float32Array(0) }]), /attention for val, entry 0: shape \[0,0,3\]/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
