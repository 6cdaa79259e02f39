/**
 * captioning-lab: the notebooks' one door into the library.
 *
 *   import * as lab from '../src';
 *   const backend = await lab.initBackend();   // before creating any tensor
 *   await lab.show(figure);                     // plotly figure inline, with a PNG
 */
export * as tf from '@tensorflow/tfjs';

export { initBackend, describeBackendChoice, BACKEND_KINDS, BACKEND_ENV_VAR } from './compute/backend';
export type { BackendChoice, BackendKind } from './compute/backend';
export { describeEnvironment } from './compute/environment';
export type { EnvironmentReport } from './compute/environment';
export { show, exportFigure } from './viz/display';
export { closeRenderer } from './viz/renderer';
export type { Figure } from './viz/renderer';

// datasets
export { SPLITS, DatasetError, formatProblem, formatLoadReport, imagePath, imagesOf, countSplits, datasetFingerprint } from './data/dataset';
export type { Caption, CaptionDataset, DatasetImage, DatasetProblem, LoadReport, LoadMode, Split } from './data/dataset';
export { loadKarpathy, KARPATHY_SPLITS } from './data/karpathy';
export type { LoadOptions } from './data/karpathy';
export { loadCocoCaptions } from './data/coco-captions';
export type { CocoLoadOptions } from './data/coco-captions';
export { loadDataset, detectFormat } from './data/load';
export { vocabularyTokens } from './data/tokenize';
export { Vocabulary, SPECIAL_TOKENS, PAD_ID, START_ID, END_ID, UNK_ID, DEFAULT_VOCABULARY_OPTIONS } from './data/vocabulary';
export type { VocabularyOptions, OverLengthPolicy } from './data/vocabulary';
export { buildVocabulary, vocabularyCoverage } from './data/build-vocabulary';
export { encodeCaptions } from './data/encoded-captions';
export type { EncodedCaptions } from './data/encoded-captions';
export { loadImage, loadImageTensor, loadImageBatch, imageBatchTensor, imageDataUri, NORMALISATIONS } from './data/images';
export type { ImageOptions, DecodedImage, ImageBatch, ResizeMode } from './data/images';
export { planBatches, captionBatches, imageCaptionBatches, makeCaptionBatch, batchTensors } from './data/batches';
export type { BatchOptions, CaptionBatch, ImageCaptionBatch, BatchTensors } from './data/batches';
export { createRng, seededPermutation } from './common/random';
export type { Rng, Seed } from './common/random';
export { SCENES_QUICK, ensureScenes, generateScenes, readScenesManifest, resolveScenesParams } from './data/scenes/generate';
export type { ScenesParams, ScenesInfo, ScenesManifest } from './data/scenes/generate';
export { sceneAnnotations } from './data/scenes/annotations';
export type { SceneAnnotations, SceneObjectAnnotation } from './data/scenes/annotations';
export { datasetStatistics, checkDataset, formatCheck } from './data/check';
export type { DatasetStatistics, CheckResult } from './data/check';
export { captionLengthFigure, captionsPerImageFigure, wordFrequencyFigure, imageGridFigure, gridFigure } from './viz/data-figures';

// tracking
export { experiment, jobRunId, loadRun, listRuns, removeRun, compareRuns, runTable, groupBySeed, Run, recordEvaluation, exportMlflow, epochSeed, resultsRoot, runId, canonicalJson, flattenConfig, readCaptions, readAttention, attentionGrid, CheckpointReader, CheckpointWriter, DamagedRunError, RunBusyError, RunFailedError, RunInterruptedError, RESULTS_ENV_VAR } from './tracking';
export type { TrainingJob, RunContext, EpochContext, Evaluation, AttentionMap, CaptionResult, ExperimentOptions, RunMetric, MetricLabel, MetricRecord, RunStatus, SummaryRecord, StatusRecord, CheckpointInfo, HostArray, RunEntry, RunFilter, CompareFilter, RunTable, RunOrigin, MlflowExport, MlflowExportOptions } from './tracking';
export { buildReport } from './report/build';
export { exportTable } from './report/tables';
export type { ReportOptions, ReportResult } from './report/build';
export { REPORT_NUMBERS, reportMetrics } from './analysis/paper-reference';
export { trainingLossFigure, validationLossFigure, metricBarsFigure, curvesOf } from './viz/training-figures';
export type { RunCurves, MetricBar } from './viz/training-figures';
export { groupCurvesFigure, groupSeries } from './viz/group-figures';
export type { CurveGroup, GroupCurveOptions } from './viz/group-figures';
export { attentionFigure } from './viz/attention-figures';
export { captionComparisonFigure, generatedLengthFigure, wordUseFigure } from './viz/caption-figures';
export type { CaptionComparisonItem, CaptionSet } from './viz/caption-figures';
export type { ImageInput } from './viz/image-input';
export { pngDataUri } from './viz/png';

// model: Show, Attend and Tell (config, training job, evaluation, caption prior)
export { resolveConfig, validateConfig, parseSettings, DEFAULT_CONFIG, PROFILES, PROFILE_NAMES, VARIANTS, VARIANT_NAMES } from './config';
export type { CaptionerConfig, ConfigOverride, ProfileName, VariantName, Normalisation, NormalisationName, RestvalPolicy, Alignment, BertMode } from './config';
export { NORMALISATION_NAMES, ALIGNMENTS, BERT_MODES } from './config';
export { captionerJob, ensureEvaluation, evaluateSplit } from './train/job';
export { resolveBertModel } from './train/word-setup';
export { loadConfigDataset } from './train/setup';
export { trainRuns } from './train/parallel';
export { summariseArms, summaryRows, spreadOf, formatSpread, testMetric, bestEpochValue, teacherForcedValue } from './analysis/ablations';
export type { AblationArm, ArmSummary, Spread, RunReader } from './analysis/ablations';
export { ablationFigure, differenceFigure } from './viz/ablation-figures';
export { pairedBootstrap, type PairedDifference } from './analysis/bootstrap';
export { runsBootstrap } from './analysis/run-bootstrap';
export { compareArms, comparisonRows, COMPARED_METRICS } from './analysis/comparisons';
export { formatDifference, signed } from './analysis/format';
export type { ArmComparison, ComparisonRequest } from './analysis/comparisons';
export { keptByLength, scheduleCheck } from './analysis/schedule';
export type { ScheduleCheck, SchedulePair } from './analysis/schedule';
export { ABLATIONS_SWEEP, ablationPlans, reportModels, REFERENCE_ARM, WORD_INPUTS_STUDY } from './analysis/ablation-plans';
export { expandSweep, readSweepFile, sweepStatus, type Sweep, type SweepRequest } from './sweeps';
export type { AblationPlan, AblationRequest } from './analysis/ablation-plans';
export { scoreImages, pickExamples, comparisonItems } from './analysis/qualitative';
export type { ComparisonExample, ScoredImage } from './analysis/qualitative';
export { bertVerdict } from './analysis/verdict';
export { claimRows, reproductionClaims, MIN_BLEU_GAIN, MIN_EPOCHS_FEWER } from './analysis/claims';
export type { Claim, ClaimOutcome } from './analysis/claims';
export type { BertVerdict } from './analysis/verdict';
export type { RunRequest, TrainRunsOptions } from './train/parallel';
export { protocolTable, protocolTableRows, averageRows, TABLE_METRICS } from './analysis/protocols';
export type { ProtocolRow } from './analysis/protocols';
export type { BertModelSource } from './train/word-setup';
export type { CaptionerState, CaptionerJobOptions } from './train/job';
export { bestSingleCaption, scorePrior } from './model/caption-prior';
export type { CaptionPrior } from './model/caption-prior';
export { attentionCorrectness } from './model/attention-correctness';
export type { AttentionCorrectness } from './model/attention-correctness';
export { PROJECT_ROOT, projectPath } from './common/project';

// BERT word inputs (src/embeddings/bert): embedder, modes, offline pretraining, inspection helpers
export * as bert from './embeddings/bert';

// notebooks: the parameters cell
export { notebookParameters, notebookConfig, PARAMETER_ENV } from './config/notebook-parameters';
export type { NotebookParameters } from './config/notebook-parameters';
