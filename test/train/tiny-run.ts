// The smallest real captioner run the training tests use: generated scenes at 64 px, a small
// CNN trained with the decoder, a tiny decoder, one epoch. Overrides for resolveConfig('quick').
export function tinyRunOverrides(dataDir: string, options: { images?: number; seed?: number; hidden?: number } = {}) {
  return {
    data: { dir: dataDir, scenes: { images: options.images ?? 20, size: 64, seed: options.seed ?? 5, occlusion: 0, captionsPerImage: 5 } },
    encoder: { kind: 'small-cnn' as const, inputSize: 64, normalisation: 'imagenet' as const },
    decoder: { hidden: options.hidden ?? 8, attention: 8 },
    words: { dim: 8 },
    train: { epochs: 1, batchSize: 16 },
    decode: { beam: 1, maxLength: 6, lengthPenalty: 0 },
  };
}
