/**
 * The run store (DESIGN.md, "Runs and caching"): run ids from canonical configs, run folders
 * with their records, training jobs that are trained once, resumed when interrupted and
 * loaded when finished, comparisons as DataFrames, and export to MLflow's file store.
 */
export { canonicalJson, canonicalize, flattenConfig, runId, runIdentity, shortHash, slugify, RUN_HASH_LENGTH } from './canonical';
export type { JsonObject, JsonValue, RunIdentity, RunIdentityInput } from './canonical';
export { CheckpointReader, CheckpointWriter } from './checkpoint-io';
export type { HostArray } from './checkpoint-io';
export { listCheckpoints, readCheckpoint } from './checkpoints';
export type { CheckpointInfo } from './checkpoints';
export { DamagedRunError, RunBusyError, RunFailedError, RunInterruptedError } from './errors';
export { experiment } from './experiment';
export { findFinishedRun, jobRunId } from './run-lookup';
export type { ExperimentOptions } from './experiment';
export { epochSeed } from './job';
export type { AttentionMap, CaptionResult, EpochContext, Evaluation, EvaluationContext, RunContext, TrainingJob } from './job';
export { attentionGrid, readAttention, readCaptions, writeAttention, writeCaptions } from './artifacts';
export { acquireLock, isProcessAlive, readLock } from './lock';
export type { LockHandle, LockOwner } from './lock';
export { evaluationSplit, resultsRoot, runFolder, runsFolder, RESULTS_ENV_VAR, RUN_FILES } from './paths';
export { metricColumn, metricKey, protocolLabel, OWN_IMPLEMENTATION, RUN_STATUSES } from './records';
export type { MetricLabel, MetricRecord, RunMetric, RunStatus, StatusRecord, SummaryRecord } from './records';
export { Run } from './run';
export type { RunOrigin } from './run';
export { listRuns, loadRun, readRunEntry, removeRun, resolveRunId } from './store';
export type { RunEntry, RunFilter } from './store';
export { compareRuns, runTable, stopLabel, tableOfRuns, shapeTable, toDataFrame } from './compare';
export { groupBySeed, groupColumn, seedStem, type GroupOptions } from './run-groups';
export type { CompareFilter, RunTable, Row, Cell } from './compare';
export { exportMlflow, experimentIdOf, summaryMetricKey } from './mlflow';
export type { MlflowExport, MlflowExportOptions } from './mlflow';
export { recordEvaluation } from './evaluation';
