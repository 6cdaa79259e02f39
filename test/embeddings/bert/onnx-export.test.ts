// The ONNX BERT written from tfjs weights, read back through transformers.js (remote loading
// off), against the tfjs forward pass of the same weights: every hidden state, padded batches.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';

import { BertEmbedder } from '../../../src/embeddings/bert/embedder';
import { ONNX_IR_VERSION, ONNX_OPSET, readWordEmbeddings } from '../../../src/embeddings/bert/onnx-export';
import { WordPieceTokenizer } from '../../../src/embeddings/bert/wordpiece';
import { sceneCaptions, loadTinyBert, type LoadedTinyBert, type TinyBert } from './fixture';

let tiny: TinyBert;
let bert: BertEmbedder;

let loaded: LoadedTinyBert | undefined;
before(async () => {
  loaded = await loadTinyBert();
  ({ tiny, bert } = loaded);
});
after(() => loaded?.dispose());

/** tfjs hidden states of framed sentences (one batch, padded), [S_b, H] per sentence and layer. */
function tfjsStates(ids: number[][], segment = 0): Float32Array[][] {
  const B = ids.length;
  const S = Math.max(...ids.map((r) => r.length));
  const H = tiny.config.hiddenSize;
  const flat = new Int32Array(B * S);
  const mask = new Int32Array(B * S);
  ids.forEach((r, b) => r.forEach((id, s) => {
    flat[b * S + s] = id;
    mask[b * S + s] = 1;
  }));
  const states = tf.tidy(() => tiny.model.forward({ inputIds: tf.tensor2d(flat, [B, S], 'int32'), attentionMask: tf.tensor2d(mask, [B, S], 'int32'), tokenTypeIds: tf.fill([B, S], segment, 'int32') as tf.Tensor2D }));
  const data = states.map((t) => t.dataSync());
  tf.dispose(states);
  return ids.map((r, b) => data.map((d) => d.slice(b * S * H, (b * S + r.length) * H) as Float32Array));
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('ONNX export', () => {
  test('the graph is opset 17, IR 8, with int64 inputs and every hidden state as an output', () => {
    const model = onnx.ModelProto.decode(fs.readFileSync(path.join(tiny.dir, 'onnx', 'model.onnx')));
    assert.equal(Number(model.irVersion), ONNX_IR_VERSION);
    assert.equal(Number(model.opsetImport[0].version), ONNX_OPSET);
    const graph = model.graph!;
    assert.deepEqual((graph.input ?? []).map((i) => i.name), ['input_ids', 'attention_mask', 'token_type_ids']);
    assert.deepEqual((graph.output ?? []).map((o) => o.name), ['last_hidden_state', 'hidden_state_0', 'hidden_state_1', 'hidden_state_2']);
    assert.ok((graph.node ?? []).some((n) => n.opType === 'LayerNormalization'));
    assert.deepEqual(bert.outputs, ['last_hidden_state', 'hidden_state_0', 'hidden_state_1', 'hidden_state_2']);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) assert.ok(fs.existsSync(path.join(tiny.dir, f)), f);
    assert.equal(JSON.parse(fs.readFileSync(path.join(tiny.dir, 'config.json'), 'utf8')).model_type, 'bert');
  });

  test('transformers.js and tfjs agree on every layer of a padded batch (max |diff| < 1e-4)', async () => {
    const sentences = [['a', 'red', 'circle'], ['there', 'is', 'a', 'big', 'blue', 'square', 'left', 'of', 'a', 'green', 'triangles'], ['the', "man's", 'star'], ['a', 'picture', 'of', 'a', 'small', 'starry', 'square']];
    for (const layer of ['last', 0, 1, 2] as const) {
      const onnxStates = await bert.withSettings({ layer }).runPieces(sentences);
      const expected = tfjsStates(onnxStates.map((s) => s.ids));
      const index = layer === 'last' ? 2 : layer;
      onnxStates.forEach((s, b) => {
        const d = maxDiff(s.rows, expected[b][index]);
        assert.ok(d < 1e-4, `layer ${layer}, sentence ${b}: max |diff| ${d}`);
      });
    }
  });

  test('segment ids reach the graph: all-1 segments agree with tfjs and differ from all-0', async () => {
    const sentences = [['a', 'red', 'circle', 'above', 'a', 'star']];
    const one = await bert.withSettings({ segmentId: 1 }).runPieces(sentences);
    const zero = await bert.runPieces(sentences);
    assert.ok(maxDiff(one[0].rows, tfjsStates([one[0].ids], 1)[0][2]) < 1e-4);
    assert.ok(maxDiff(one[0].rows, zero[0].rows) > 1e-2);
  });

  test('the piece-embedding table read from the ONNX file is the tfjs one', () => {
    const table = readWordEmbeddings(fs.readFileSync(path.join(tiny.dir, 'onnx', 'model.onnx')), tiny.config.vocabSize, tiny.config.hiddenSize, 'tiny');
    const expected = tiny.model.weights.get('embeddings.word_embeddings.weight')!.dataSync() as Float32Array;
    assert.equal(maxDiff(table, expected), 0);
  });

  test("our WordPiece tokenizer and transformers.js's agree on pieces", () => {
    const mine = new WordPieceTokenizer(tiny.vocabulary);
    for (const c of [...sceneCaptions(30), ['the', "man's", 'starry', 'triangles', 'xx', 'Ünknown']]) {
      const words = c.map((w) => bert.wordPieces(w));
      assert.deepEqual(words.flat(), mine.encode(c.join(' ')), c.join(' '));
    }
  });
});
