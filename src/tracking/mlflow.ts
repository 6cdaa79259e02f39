/**
 * Export of runs to MLflow's file store, so that `mlflow ui --backend-store-uri ./mlruns`
 * browses them. Layout of MLflow's FileStore (mlflow/store/tracking/file_store.py, as in
 * MLflow 1.x and 2.x; run meta.yaml with `run_id`, `run_name` as since MLflow 2.0):
 *
 *   mlruns/
 *     .trash/
 *     <experiment_id>/meta.yaml        artifact_location, creation_time, experiment_id,
 *                                      last_update_time, lifecycle_stage, name
 *     <experiment_id>/<run_id>/
 *       meta.yaml                      artifact_uri, end_time, entry_point_name, experiment_id,
 *                                      lifecycle_stage, run_id, run_name, run_uuid, source_*,
 *                                      start_time, status (1 running, 3 finished, 4 failed,
 *                                      5 killed = interrupted), tags: [], user_id, deleted_time
 *       params/<key>                   the value, no newline (flattened config, epochs, seed, fingerprints)
 *       metrics/<key>                  lines "<timestamp ms> <value> <step>"
 *       tags/<key>                     mlflow.runName, mlflow.source.git.commit, captioning.* …
 *       artifacts/                     config.json, summary.json, environment.json, status.json,
 *                                      metrics.jsonl, captions-*.json, attention-*
 *
 * Metric keys: step lines of metrics.jsonl keep their name (`loss`, step = the line's last
 * global step; a line is the mean over its `steps` steps, step-records.ts);
 * epoch lines become `epoch.<name>` (step = epoch index); summary metrics become
 * `<name>.<split>.<protocol>.beam<k>[.<implementation>]` (e.g. `BLEU-4.test.free-running.beam3`)
 * with the protocol also in a tag `captioning.metric.<key>`. MLflow's run id is ours (its
 * pattern allows `baseline-3f2a9c1b7d0e`); the experiment id is a number derived from the
 * experiment name, so exporting again replaces the same folders.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';

import { flattenConfig, shortHash } from './canonical';
import { RUN_FILES } from './paths';
import type { MetricRecord, RunMetric, RunStatus } from './records';
import { Run } from './run';
import { listRuns, type RunFilter } from './store';

export interface MlflowExportOptions extends RunFilter {
  /** The mlruns folder (default ./mlruns). */
  out?: string;
  /** Experiment name (default 'captioning-lab'). */
  experimentName?: string;
}

export interface MlflowExport {
  dir: string;
  experimentId: string;
  runs: { id: string; dir: string; metrics: number; params: number }[];
  skipped: { id: string; reason: string }[];
}

/** MLflow's RunStatus numbers. */
const MLFLOW_STATUS: Record<RunStatus, number> = { running: 1, finished: 3, failed: 4, interrupted: 5 };

/** MLflow keys: letters, digits, '_', '-', '.', ' ' and '/' (we avoid '/', which makes folders). */
export function mlflowKey(raw: string): string {
  const key = raw.replace(/[^\w.\- ]+/g, '_').replace(/^[.\s]+/, '').slice(0, 250);
  return key || '_';
}

/** The MLflow metric key of a summary metric: `BLEU-4.test.free-running.beam3`. */
export function summaryMetricKey(m: RunMetric): string {
  const parts = [m.name, m.split, m.protocol, m.beam !== undefined ? `beam${m.beam}` : undefined, m.implementation !== 'coco-caption' ? m.implementation : undefined];
  return mlflowKey(parts.filter((p): p is string => p !== undefined && p !== '').join('.'));
}

/** A deterministic integer-looking experiment id from a name (MLflow's own are random integers). */
export function experimentIdOf(name: string): string {
  return String(parseInt(shortHash(`mlflow-experiment:${name}`, 12), 16));
}

function yamlScalar(value: string | number | boolean | null | never[]): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return '[]';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}

/** YAML of a flat record, keys sorted as PyYAML's dump writes them. */
export function flatYaml(record: Record<string, string | number | boolean | null | never[]>): string {
  return (
    Object.keys(record)
      .sort()
      .map((k) => `${k}: ${yamlScalar(record[k])}`)
      .join('\n') + '\n'
  );
}

function fileUri(p: string): string {
  return pathToFileURL(path.resolve(p)).href;
}

function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function timeOf(iso: string | undefined, fallback: number): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : fallback;
}

/** Writes the runs (finished, failed and interrupted; damaged ones are skipped and listed) into an MLflow file store. */
export function exportMlflow(options: MlflowExportOptions = {}): MlflowExport {
  const out = path.resolve(options.out ?? 'mlruns');
  const experimentName = options.experimentName ?? 'captioning-lab';
  const experimentId = experimentIdOf(experimentName);
  const experimentDir = path.join(out, experimentId);
  const now = Date.now();
  fs.mkdirSync(path.join(out, '.trash'), { recursive: true });
  const metaFile = path.join(experimentDir, 'meta.yaml');
  const created = fs.existsSync(metaFile) ? /creation_time: (\d+)/.exec(fs.readFileSync(metaFile, 'utf8'))?.[1] : undefined;
  writeFile(
    metaFile,
    flatYaml({
      artifact_location: fileUri(experimentDir),
      creation_time: created ? Number(created) : now,
      experiment_id: experimentId,
      last_update_time: now,
      lifecycle_stage: 'active',
      name: experimentName,
    }),
  );

  const result: MlflowExport = { dir: out, experimentId, runs: [], skipped: [] };
  for (const entry of listRuns({ ...options, includeDamaged: true })) {
    if (entry.problem || !entry.summary) {
      result.skipped.push({ id: entry.id, reason: entry.problem ?? 'no summary.json (never finished an attempt)' });
      continue;
    }
    const summary = entry.summary;
    const run = new Run(entry.id, entry.dir);
    // Listing reads summaries only; the history is read (and checked) here.
    let history: MetricRecord[];
    try {
      history = run.history();
    } catch (error) {
      result.skipped.push({ id: entry.id, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const runDir = path.join(experimentDir, entry.id);
    fs.rmSync(runDir, { recursive: true, force: true });
    const start = timeOf(summary.startedAt, now);
    const status = entry.statusRecord?.status ?? summary.status;
    writeFile(
      path.join(runDir, 'meta.yaml'),
      flatYaml({
        artifact_uri: fileUri(path.join(runDir, 'artifacts')),
        deleted_time: null,
        end_time: status === 'running' ? null : timeOf(summary.updatedAt, now),
        entry_point_name: '',
        experiment_id: experimentId,
        lifecycle_stage: 'active',
        run_id: entry.id,
        run_name: entry.id,
        run_uuid: entry.id,
        source_name: '',
        source_type: 4,
        source_version: '',
        start_time: start,
        status: MLFLOW_STATUS[status],
        tags: [],
        user_id: safeUser(),
      }),
    );

    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(flattenConfig(summary.config))) params[mlflowKey(k)] = String(v);
    params.epochs = String(summary.epochs.planned);
    params.seed = String(summary.seed);
    for (const [k, v] of Object.entries(summary.fingerprints ?? {})) params[mlflowKey(`fingerprint.${k}`)] = v;
    for (const [k, v] of Object.entries(params)) writeFile(path.join(runDir, 'params', k), v.length > 250 ? `${v.slice(0, 249)}…` : v);

    const metrics = new Map<string, string[]>();
    const add = (key: string, time: number, value: number, step: number) => {
      const lines = metrics.get(key) ?? [];
      lines.push(`${Math.round(time)} ${value} ${step}`);
      metrics.set(key, lines);
    };
    for (const record of history) {
      for (const [k, v] of Object.entries(record)) {
        if (k === 'kind' || k === 'step' || k === 'epoch' || k === 'time' || (k === 'steps' && record.kind === 'step') || typeof v !== 'number') continue;
        if (record.kind === 'step') add(mlflowKey(k), record.time, v, record.step);
        else add(mlflowKey(`epoch.${k}`), record.time, v, record.epoch);
      }
    }
    const tags: Record<string, string> = {
      'mlflow.runName': entry.id,
      'mlflow.source.type': 'LOCAL',
      'mlflow.source.name': 'captioning-lab',
      'mlflow.user': safeUser(),
      'captioning.status': status,
      'captioning.backend': summary.backend,
      'captioning.name': summary.name,
    };
    if (summary.git?.commit && summary.git.commit !== 'unknown') tags['mlflow.source.git.commit'] = summary.git.commit;
    const end = timeOf(summary.updatedAt, now);
    for (const m of summary.metrics) {
      const key = summaryMetricKey(m);
      add(key, end, m.value, m.epoch ?? 0);
      tags[mlflowKey(`captioning.metric.${key}`)] = JSON.stringify({
        name: m.name,
        split: m.split ?? null,
        protocol: m.protocol ?? null,
        beam: m.beam ?? null,
        implementation: m.implementation,
      });
    }
    for (const [k, lines] of metrics) writeFile(path.join(runDir, 'metrics', k), lines.join('\n') + '\n');
    for (const [k, v] of Object.entries(tags)) writeFile(path.join(runDir, 'tags', k), v);

    const artifacts = path.join(runDir, 'artifacts');
    fs.mkdirSync(artifacts, { recursive: true });
    const copied = [RUN_FILES.config, RUN_FILES.summary, RUN_FILES.environment, RUN_FILES.status, RUN_FILES.metrics, ...(summary.files ?? [])];
    for (const name of copied) {
      const from = path.join(entry.dir, name);
      if (fs.existsSync(from)) fs.copyFileSync(from, path.join(artifacts, name));
    }
    result.runs.push({ id: entry.id, dir: runDir, metrics: metrics.size, params: Object.keys(params).length });
  }
  return result;
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
