/**
 * The checks of a run folder's records as read from disk (types in records.ts): each
 * builds the typed record from the fields its type declares, and a record that fails is a
 * DamagedRunError naming the file and the field (or metrics.jsonl line) at fault. Fields
 * are checked in order of what readers need first (id, status, …); the built record keeps
 * the file's key order (FieldReader.build), so a record written back reads as it did.
 */
import { IDENTITY_SCHEMA } from './canonical';
import { DamagedRunError } from './errors';
import {
  FieldReader,
  isArrayOf,
  isFiniteNumber,
  isInteger,
  isJsonValue,
  isNonEmptyString,
  isOneOf,
  isPositiveInteger,
  isRecordOf,
  isString,
} from './json-fields';
import {
  RUN_STATUSES,
  STOP_REASONS,
  type AttemptRecord,
  type ConfigRecord,
  type ErrorRecord,
  type MetricRecord,
  type RunMetric,
  type StatusRecord,
  type StopRecord,
  type SummaryRecord,
} from './records';

const isRunStatus = isOneOf(RUN_STATUSES);
const STATUSES = RUN_STATUSES.join(' | ');
const isFingerprints = isRecordOf(isString);
const isNumberOrNull = (value: unknown): value is number | null => value === null || isFiniteNumber(value);

/** Checks one metric entry of a summary. */
export function checkRunMetric(file: string, value: unknown, field: string): RunMetric {
  const r = new FieldReader(file, value, field);
  return r.build({
    name: r.required('name', 'a non-empty string', isNonEmptyString),
    value: r.required('value', 'a finite number', isFiniteNumber),
    implementation: r.required('implementation', 'a string', isString),
    split: r.optional('split', 'a string', isString),
    protocol: r.optional('protocol', 'a string', isString),
    beam: r.optional('beam', 'a positive integer', isPositiveInteger),
    epoch: r.optional('epoch', 'an integer', isInteger),
    subset: r.optionalNested('subset', checkSubset),
  });
}

function checkSubset(file: string, value: unknown, field: string): { evaluated: number; of: number } {
  const r = new FieldReader(file, value, field);
  return r.build({ evaluated: r.required('evaluated', 'an integer', isInteger), of: r.required('of', 'an integer', isInteger) });
}

function checkStop(file: string, value: unknown, field: string): StopRecord {
  const r = new FieldReader(file, value, field);
  return r.build({
    reason: r.required('reason', STOP_REASONS.join(' | '), isOneOf(STOP_REASONS)),
    epochs: r.required('epochs', 'an integer', isInteger),
    detail: r.optional('detail', 'a string', isString),
  });
}

function checkError(file: string, value: unknown, field: string): ErrorRecord {
  const r = new FieldReader(file, value, field);
  return r.build({
    message: r.required('message', 'a string', isString),
    stack: r.optional('stack', 'a string', isString),
    epoch: r.optional('epoch', 'an integer', isInteger),
  });
}

function checkAttempt(file: string, value: unknown, field: string): AttemptRecord {
  const r = new FieldReader(file, value, field);
  return r.build({
    attempt: r.required('attempt', 'an integer', isInteger),
    status: r.required('status', STATUSES, isRunStatus),
    pid: r.required('pid', 'an integer', isInteger),
    hostname: r.required('hostname', 'a string', isString),
    startedAt: r.required('startedAt', 'a string', isString),
    endedAt: r.optional('endedAt', 'a string', isString),
    startEpoch: r.required('startEpoch', 'an integer', isInteger),
    epochsTrained: r.required('epochsTrained', 'an integer', isInteger),
    trainingSeconds: r.required('trainingSeconds', 'a finite number', isFiniteNumber),
    reason: r.required('reason', 'a string', isString),
    error: r.optionalNested('error', checkError),
  });
}

function checkEpochs(file: string, value: unknown, field: string): SummaryRecord['epochs'] {
  const r = new FieldReader(file, value, field);
  return r.build({
    planned: r.required('planned', 'an integer', isInteger),
    completed: r.required('completed', 'an integer', isInteger),
    best: r.optional('best', 'an integer', isInteger),
  });
}

function checkBest(file: string, value: unknown, field: string): NonNullable<SummaryRecord['best']> {
  const r = new FieldReader(file, value, field);
  return r.build({
    metric: r.required('metric', 'a string', isString),
    mode: r.required('mode', "'min' | 'max'", isOneOf(['min', 'max'] as const)),
    value: r.required('value', 'a finite number', isFiniteNumber),
    epoch: r.required('epoch', 'an integer', isInteger),
  });
}

function checkGit(file: string, value: unknown, field: string): SummaryRecord['git'] {
  const r = new FieldReader(file, value, field);
  return r.build({
    commit: r.required('commit', 'a string', isString),
    dirty: r.required('dirty', "true | false | 'unknown'", isOneOf([true, false, 'unknown'] as const)),
  });
}

/** Checks summary.json. */
export function checkSummary(file: string, value: unknown): SummaryRecord {
  const r = new FieldReader(file, value, '(root)');
  return r.build({
    id: r.required('id', 'a string', isString),
    status: r.required('status', STATUSES, isRunStatus),
    config: r.required('config', 'the run config', isJsonValue),
    backend: r.required('backend', 'a string', isString),
    metrics: r.arrayOf('metrics', checkRunMetric),
    stop: r.optionalNested('stop', checkStop),
    schema: r.required('schema', "'captioning-lab/summary@1'", isOneOf(['captioning-lab/summary@1'] as const)),
    name: r.required('name', 'a string', isString),
    epochs: r.nested('epochs', checkEpochs),
    seed: r.required('seed', 'an integer', isInteger),
    fingerprints: r.required('fingerprints', 'an object of strings', isFingerprints),
    final: r.optional('final', 'an object of numbers and nulls', isRecordOf(isNumberOrNull)),
    best: r.optionalNested('best', checkBest),
    files: r.required('files', 'an array of file names', isArrayOf(isString)),
    git: r.nested('git', checkGit),
    startedAt: r.required('startedAt', 'a string', isString),
    updatedAt: r.required('updatedAt', 'a string', isString),
    trainingSeconds: r.required('trainingSeconds', 'a finite number', isFiniteNumber),
    error: r.optionalNested('error', checkError),
  });
}

/** Checks status.json. */
export function checkStatus(file: string, value: unknown): StatusRecord {
  const r = new FieldReader(file, value, '(root)');
  return r.build({
    status: r.required('status', STATUSES, isRunStatus),
    epochsCompleted: r.required('epochsCompleted', 'an integer', isInteger),
    attempts: r.arrayOf('attempts', checkAttempt),
    stop: r.optionalNested('stop', checkStop),
    schema: r.required('schema', "'captioning-lab/status@1'", isOneOf(['captioning-lab/status@1'] as const)),
    id: r.required('id', 'a string', isString),
    updatedAt: r.required('updatedAt', 'a string', isString),
    epochsPlanned: r.required('epochsPlanned', 'an integer', isInteger),
    error: r.optionalNested('error', checkError),
  });
}

/** Checks config.json. */
export function checkConfig(file: string, value: unknown): ConfigRecord {
  const r = new FieldReader(file, value, '(root)');
  return r.build({
    id: r.required('id', 'a string', isString),
    hash: r.required('hash', 'a string', isString),
    epochs: r.required('epochs', 'an integer', isInteger),
    config: r.required('config', 'the run config', isJsonValue),
    aliases: r.optional('aliases', 'an array of names', isArrayOf(isString)),
    name: r.required('name', 'a string', isString),
    schema: r.required('schema', JSON.stringify(IDENTITY_SCHEMA), isOneOf([IDENTITY_SCHEMA] as const)),
    seed: r.required('seed', 'an integer', isInteger),
    fingerprints: r.required('fingerprints', 'an object of strings', isFingerprints),
  });
}

/** Checks one metrics.jsonl record (line numbers are 1-based). */
export function checkMetricRecord(file: string, value: Record<string, unknown>, line: number): MetricRecord {
  const where = `line ${line}`;
  if (value.kind !== 'step' && value.kind !== 'epoch') throw new DamagedRunError(file, `${where}: kind should be 'step' or 'epoch', got ${JSON.stringify(value.kind)}`);
  if (!Number.isInteger(value.epoch)) throw new DamagedRunError(file, `${where}: epoch should be an integer, got ${JSON.stringify(value.epoch)}`);
  if (!Number.isInteger(value.step)) throw new DamagedRunError(file, `${where}: step should be an integer, got ${JSON.stringify(value.step)}`);
  if (value.steps !== undefined && !(Number.isInteger(value.steps) && (value.steps as number) >= 1)) {
    throw new DamagedRunError(file, `${where}: steps should be an integer >= 1, got ${JSON.stringify(value.steps)}`);
  }
  return value as MetricRecord;
}
