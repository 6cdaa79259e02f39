// The experiment config: defaults, profiles, overrides, and errors that name the key.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import { DEFAULT_CONFIG, parseSettings, PROFILES, resolveConfig, validateConfig } from '../../src/config';

describe('CaptionerConfig', () => {
  test('the quick profile is the defaults; paper sets the reference hyperparameters', () => {
    assert.deepEqual(resolveConfig('quick'), DEFAULT_CONFIG);
    const paper = resolveConfig('paper');
    assert.equal(paper.data.source, 'karpathy');
    assert.equal(paper.data.minCount, 5);
    assert.equal(paper.data.maxLength, 50);
    assert.equal(paper.encoder.kind, 'pretrained');
    assert.equal(paper.encoder.pretrained.grid, 14);
    // Keras ResNet101's preprocess_input (the conversion src/encoders/README.md documents): Caffe-style, BGR.
    assert.deepEqual([paper.encoder.normalisation, paper.encoder.channelOrder], [{ mean: [123.68 / 255, 116.779 / 255, 103.939 / 255], std: [1 / 255, 1 / 255, 1 / 255] }, 'bgr']);
    assert.deepEqual([paper.words.dim, paper.decoder.hidden, paper.decoder.attention, paper.decoder.dropout], [512, 512, 512, 0.5]);
    assert.deepEqual([paper.train.learningRate, paper.train.batchSize, paper.train.clip.value, paper.train.alphaC], [4e-4, 32, 5, 1]);
    // The paper profile leaves what it does not name at the defaults.
    assert.deepEqual(paper.encoder.cnn, DEFAULT_CONFIG.encoder.cnn);
    assert.equal(PROFILES.quick && Object.keys(PROFILES.quick).length, 0);
  });

  test('an override changes only what it names, and does not touch the defaults', () => {
    const c = resolveConfig('quick', { decoder: { hidden: 64 }, encoder: { cnn: { channels: [8, 16] , strides: [2, 2]} } });
    assert.equal(c.decoder.hidden, 64);
    assert.equal(c.decoder.attention, DEFAULT_CONFIG.decoder.attention);
    assert.deepEqual(c.encoder.cnn.channels, [8, 16]);
    assert.equal(c.encoder.cnn.kernel, 3);
    assert.notEqual(DEFAULT_CONFIG.decoder.hidden, 64);
  });

  const errors: [string, unknown, RegExp][] = [
    ['unknown key', { decoder: { hiden: 3 } }, /config key "decoder.hiden" is unknown; known keys of "decoder": hidden, attention/],
    ['unknown section', { optimiser: {} }, /config key "optimiser" is unknown; known keys: seed, data/],
    ['wrong type', { train: { learningRate: '4e-4' } }, /config key "train.learningRate" must be a number, got "4e-4"/],
    ['not whole', { decoder: { hidden: 12.5 } }, /"decoder.hidden" must be a whole number, got 12.5/],
    ['bad choice', { decoder: { gate: 'both' } }, /"decoder.gate" must be one of "scalar", "vector", "none", got "both"/],
    ['out of range', { decoder: { dropout: 1.5 } }, /"decoder.dropout" must be <= 1, got 1.5/],
    ['bad normalisation', { encoder: { normalisation: 'caffe' } }, /"encoder.normalisation" must be one of "imagenet", "minus-one-to-one", "zero-to-one" or \{ mean, std \}/],
    ['nullable', { train: { encoderLearningRate: 'x' } }, /"train.encoderLearningRate" must be a number or null/],
    ['list', { encoder: { cnn: { channels: [] } } }, /"encoder.cnn.channels" must be a non-empty list of whole numbers >= 1/],
    ['lengths', { encoder: { cnn: { channels: [8], strides: [2, 2] } } }, /"encoder.cnn.channels" and "encoder.cnn.strides" must have the same length/],
  ];
  for (const [name, override, message] of errors) {
    test(`rejects: ${name}`, () => assert.throws(() => resolveConfig('quick', override as Record<string, unknown>), message));
  }

  test('explicit normalisation, null values and a missing key', () => {
    const c = resolveConfig('quick', { encoder: { normalisation: { mean: [0.485, 0.458, 0.408], std: [1 / 255, 1 / 255, 1 / 255] }, channelOrder: 'bgr' }, train: { encoderLearningRate: null } });
    assert.equal(c.encoder.channelOrder, 'bgr');
    const broken = JSON.parse(JSON.stringify(DEFAULT_CONFIG));
    delete broken.train.alphaC;
    assert.throws(() => validateConfig(broken), /config key "train.alphaC" must be a number, got nothing/);
  });

  test('key=value settings (the command line --set)', () => {
    const o = parseSettings(['decoder.hidden=128', 'decoder.gate=scalar', 'train.learningRate=4e-4', 'encoder.cnn.channels=[16,32]', 'encoder.pretrained.grid=null', 'data.dir=/tmp/x']);
    assert.deepEqual(o, { decoder: { hidden: 128, gate: 'scalar' }, train: { learningRate: 4e-4 }, encoder: { cnn: { channels: [16, 32] }, pretrained: { grid: null } }, data: { dir: '/tmp/x' } });
    assert.throws(() => parseSettings(['decoder.size=3']), /config key "decoder.size" is unknown; known keys of "decoder"/);
    assert.throws(() => parseSettings(['hidden']), /must look like key=value/);
    assert.throws(() => resolveConfig('quick', parseSettings(['decoder.hidden=big'])), /"decoder.hidden" must be a number, got "big"/);
  });
});
