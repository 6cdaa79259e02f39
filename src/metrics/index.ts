/**
 * Caption metrics compatible with the COCO caption toolkit (pycocoevalcap): its PTB
 * tokenization, BLEU-1..4, ROUGE-L, CIDEr-D, METEOR and SPICE through the official jars
 * when configured, COCO/Karpathy/result file readers, and a text table.
 */
export {
  tokenizeCaption,
  tokenizeCaptions,
  ptbTokens,
  TOOLKIT_PUNCTUATION,
} from './tokenizer';
export {
  computeBleu,
  bleuFromNgrams,
  bleuFromStats,
  closestReferenceLength,
  imageBleuStats,
  sumBleuStats,
  type BleuResult,
  type BleuStats,
  type NgramImage,
} from './bleu';
export { computeRougeL, lcsLength, rougeLOfImage, ROUGE_BETA, type RougeResult } from './rouge';
export { computeCiderD, ciderFromNgrams, CiderScorer, documentFrequency, CIDER_SIGMA, type CaptionVector, type CiderResult } from './cider';
export { NgramIndex, pySplit, MAX_ORDER, type CaptionNgrams } from './ngrams';
export { exactExp, exactLog, exactPow, exactPowE, numpyMean, numpySum } from './exact-math';
export {
  scoreCaptions,
  computeCaptionMetrics,
  isMetricScore,
  IMPLEMENTATION,
  METRIC_FAMILIES,
  PROTOCOLS,
  type CaptionScores,
  type ImageId,
  type ImageScores,
  type MetricEntry,
  type MetricFamily,
  type MetricName,
  type MetricProtocol,
  type MetricScore,
  type Protocol,
  type ScoreOptions,
  type SubsetInfo,
  type UnavailableMetric,
} from './scorer';
export {
  JAVA_ENV,
  METEOR_JAR_ENV,
  SPICE_JAR_ENV,
  SPICE_CACHE_ENV,
  resolveJar,
  resolveSpiceCache,
  type JavaOptions,
  type JavaCommand,
  type JarResolution,
} from './java';
export { meteorCommand, meteorScoreLine, meteorEvalLine, runMeteor, type MeteorResult } from './meteor';
export { spiceCommand, spiceInput, parseSpiceOutput, runSpice, type SpiceResult } from './spice';
export {
  parseResults,
  annotationsFromDataset,
  readAnnotations,
  readResults,
  scoreResultFile,
  type AnnotatedImage,
  type CaptionAnnotations,
  type CaptionResults,
  type ResultEntry,
  type ScoreResultFileOptions,
} from './coco-files';
export { formatScoresTable, type FormatOptions } from './format';
