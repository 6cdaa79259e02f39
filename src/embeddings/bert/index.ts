/**
 * BERT word inputs for the decoder (issue #7): any BERT-family checkpoint through
 * transformers.js (hub id or local folder, offline by default), word alignment of WordPiece
 * vectors, the report's bidirectional method and its honest variants (causal, static), a
 * disk cache, and the project's own small BERT pretrained by masked LM when no download is
 * possible.
 *
 *   const run = await experiment(bertPretrainingJob({ captions, validation }));  // offline / CI; a second call loads it
 *   const bert = await BertEmbedder.load(bertModelDir(run.dir));               // or 'Xenova/bert-base-uncased'
 *   const words = await BertWordInputs.create(bert, vocab, { mode: 'causal', cacheDir: 'results/cache/bert' });
 *   await words.prepare(trainingCaptions);                                   // then train the captioner with `words`
 *
 * Files, one concern each: config (shapes), wordpiece (vocabulary + tokenizer), model (tfjs
 * BERT + MLM head), onnx-export, hf-folder (transformers.js layout), masking, pretraining
 * (pretrain-settings, pretrain-mlm, pretrain-checkpoint, pretrain-export, and pretrain-job
 * for the run store), source (hub or folder, offline rule), bert-checkpoint (loading through
 * transformers.js), sentence-framing ([CLS] pieces… [SEP]), embedder-settings, embedder,
 * alignment, vector-cache, word-vectors (the three modes), bert-word-inputs (the decoder's
 * WordInputs), inspect (neighbours, context drift).
 */
export { checkAlignment } from './alignment';
export { BertWordInputs, CaptionsNotPreparedError, PrefixesNotPreparedError } from './bert-word-inputs';
export { BERT_QUICK_SHAPE, checkBertConfig, fromHfConfig, toHfConfig } from './config';
export type { BertConfig } from './config';
export { BertEmbedder } from './embedder';
export type { BertEmbedderOptions, PieceStates } from './embedder';
export { DEFAULT_EMBEDDER_SETTINGS, REPORT_SEGMENT_ID } from './embedder-settings';
export type { EmbedderSettings, LayerChoice } from './embedder-settings';
export { HF_FILES, writeBertFolder } from './hf-folder';
export { contextDrift, nearestWords, vocabularyWords } from './inspect';
export type { ContextDrift, Neighbour } from './inspect';
export { BertModel } from './model';
export { exportBertOnnx, hiddenStateName, LAST_HIDDEN_STATE, ONNX_IR_VERSION, ONNX_OPSET, readWordEmbeddings } from './onnx-export';
export { bertModelDir, bertPretrainingJob } from './pretrain-job';
export { readPretrainCheckpointState } from './pretrain-checkpoint';
export type { PretrainCheckpointState } from './pretrain-checkpoint';
export { exportPretrainedBert } from './pretrain-export';
export { evaluateMlm, initPretraining, learningRateAt, trainEpoch } from './pretrain-mlm';
export type { BertPretrainState, EpochHooks, EpochMetrics } from './pretrain-mlm';
export { captionsOfSplit, corpusFingerprint, DEFAULT_PRETRAIN_SETTINGS, resolvePretrainSettings } from './pretrain-settings';
export type { PretrainOptions, PretrainSettings } from './pretrain-settings';
export { HF_CACHE_ENV_VAR, isHubId, RemoteModelsDisabledError, REMOTE_MODELS_ENV_VAR, remoteAllowedByEnv, resolveBertSource } from './source';
export type { BertSource, SourceOptions } from './source';
export type { FramedSentence } from './sentence-framing';
export { VectorCache } from './vector-cache';
export type { CachedMatrix, VectorCacheOptions, VectorCacheStats } from './vector-cache';
export { bertVectorsFor, BertWordVectors, checkBertMode } from './word-vectors';
export type { BertWordVectorsOptions } from './word-vectors';
export { BERT_SPECIAL_TOKENS, buildWordPieceVocabulary, countBertWords, WordPieceTokenizer, WordPieceVocabulary } from './wordpiece';
