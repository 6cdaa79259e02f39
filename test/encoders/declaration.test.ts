// A converted model folder's captioning-encoder.json: a config whose preprocessing differs is
// refused, naming the file, the field and both values; a matching one loads. The paper
// profile matches the declaration src/encoders/README.md tells the user to write for Keras'
// ResNet101, and its Caffe-style normalisation equals Keras' preprocess_input (mode 'caffe').
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';

import { selectBackend } from '../../src/compute/backend';
import { CAFFE_NORMALISATION, resolveConfig } from '../../src/config';
import { loadImageBatch } from '../../src/data/images';
import { checkDeclaredPreprocessing, DECLARATION_FILE } from '../../src/encoders/declaration';
import { toChannelOrder } from '../../src/encoders/preprocess';
import { loadPretrainedEncoder, nsfwjsModelFolder } from '../../src/encoders/pretrained';

let tmp: string;
let model: string;
before(async () => {
  await selectBackend({ force: 'wasm', log: null });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'captioning-declaration-'));
  model = path.join(tmp, 'mobilenet');
  fs.cpSync(nsfwjsModelFolder('mobilenet_v2'), model, { recursive: true }); // a local tfjs model folder
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function declare(folder: string, declaration: Record<string, unknown>): string {
  const file = path.join(folder, DECLARATION_FILE);
  fs.writeFileSync(file, JSON.stringify(declaration));
  return file;
}

const SPEC = { model: '', format: 'layers' as const, layer: 'block_12_add', inputSize: 128, normalisation: 'minus-one-to-one' as const, channelOrder: 'rgb' as const, resize: 'centre-crop' as const };

describe('captioning-encoder.json', () => {
  test('a matching declaration loads; a mismatching one is refused with the file, field and both values', async () => {
    const file = declare(model, { source: 'nsfwjs mobilenet_v2', normalisation: 'minus-one-to-one', channelOrder: 'rgb', inputSize: 128, resize: 'centre-crop' });
    const encoder = await loadPretrainedEncoder({ ...SPEC, model });
    assert.deepEqual([encoder.layerGrid, encoder.featureDim], [[8, 8], 96]);
    encoder.dispose();
    await assert.rejects(
      () => loadPretrainedEncoder({ ...SPEC, model, normalisation: 'imagenet', channelOrder: 'bgr' }),
      (e: Error) => {
        assert.ok(e.message.includes(file), e.message);
        assert.match(e.message, /"normalisation": the folder declares "minus-one-to-one", the config \(encoder.normalisation\) has "imagenet"/);
        assert.match(e.message, /"channelOrder": the folder declares "rgb", the config \(encoder.channelOrder\) has "bgr"/);
        return true;
      },
    );
    await assert.rejects(() => loadPretrainedEncoder({ ...SPEC, model, inputSize: 96 }), /"inputSize": the folder declares 128, the config \(encoder.inputSize\) has 96/);
    declare(model, { normalisation: 'minus-one-to-one', chanelOrder: 'rgb' });
    await assert.rejects(() => loadPretrainedEncoder({ ...SPEC, model }), /unknown field\(s\) "chanelOrder"; known fields: source, normalisation, channelOrder/);
    fs.rmSync(file);
  });

  test("the paper profile matches the declaration the README writes for Keras' ResNet101; the old approximate means do not", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'encoders', 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.includes('"source": "keras.applications.ResNet101"'));
    assert.ok(line, 'src/encoders/README.md shows the captioning-encoder.json of the conversion');
    const folder = path.join(tmp, 'resnet');
    fs.mkdirSync(folder);
    const file = declare(folder, JSON.parse(line.slice(line.indexOf('{'), line.lastIndexOf('}') + 1)));
    const { encoder } = resolveConfig('paper');
    assert.deepEqual([encoder.normalisation, encoder.channelOrder, encoder.inputSize, encoder.resize], [CAFFE_NORMALISATION, 'bgr', 256, 'stretch']);
    checkDeclaredPreprocessing(folder, encoder);
    const approximate = { mean: [0.485, 0.458, 0.408] as const, std: [1 / 255, 1 / 255, 1 / 255] as const };
    assert.throws(() => checkDeclaredPreprocessing(folder, { ...encoder, normalisation: approximate }), (e: Error) => e.message.includes(file) && /"normalisation": the folder declares "caffe", the config \(encoder.normalisation\) has \{"mean":\[0.485,0.458,0.408\]/.test(e.message));
    assert.throws(() => checkDeclaredPreprocessing(folder, { ...encoder, normalisation: 'imagenet', channelOrder: 'rgb' }), /"imagenet"[\s\S]*"channelOrder": the folder declares "bgr", the config \(encoder.channelOrder\) has "rgb"/);
  });

  test("CAFFE_NORMALISATION + BGR equals Keras' preprocess_input caffe: x[..., ::-1] - [103.939, 116.779, 123.68]", async () => {
    const rgb = [200, 100, 50];
    const file = path.join(tmp, 'pixel.png');
    await sharp(Buffer.from([...rgb, ...rgb, ...rgb, ...rgb]), { raw: { width: 2, height: 2, channels: 3 } }).png().toFile(file);
    const batch = await loadImageBatch([file], { size: 2, normalisation: CAFFE_NORMALISATION, resize: 'stretch' });
    const bgr = toChannelOrder(batch.data, 'bgr');
    const keras = [rgb[2] - 103.939, rgb[1] - 116.779, rgb[0] - 123.68];
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(bgr[k] - keras[k]) < 1e-4, `channel ${k}: ${bgr[k]} vs Keras ${keras[k]}`);
  });
});
