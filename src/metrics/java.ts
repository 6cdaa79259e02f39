/**
 * Where the official Java scorers are, if the user has them: METEOR 1.5 and SPICE 1.0 run
 * only from jars the user points us to (environment variables or options), never
 * downloaded, never imitated. Without them their scores are reported as unavailable, with
 * the reason.
 *
 *   CAPTIONING_JAVA         the java executable (default: `java` on PATH)
 *   CAPTIONING_METEOR_JAR   meteor-1.5.jar (its data/paraphrase-en.gz beside it)
 *   CAPTIONING_SPICE_JAR    spice-1.0.jar (its lib/ folder beside it)
 *   CAPTIONING_SPICE_CACHE  optional folder for SPICE's parse cache (`-cache`)
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const JAVA_ENV = 'CAPTIONING_JAVA';
export const METEOR_JAR_ENV = 'CAPTIONING_METEOR_JAR';
export const SPICE_JAR_ENV = 'CAPTIONING_SPICE_JAR';
export const SPICE_CACHE_ENV = 'CAPTIONING_SPICE_CACHE';

/** Paths to Java and the jars; each overrides its environment variable. */
export interface JavaOptions {
  /** The java executable; default `$CAPTIONING_JAVA`, else `java` on PATH. */
  java?: string;
  /** meteor-1.5.jar; default `$CAPTIONING_METEOR_JAR`. */
  meteorJar?: string;
  /** spice-1.0.jar; default `$CAPTIONING_SPICE_JAR`. */
  spiceJar?: string;
  /** SPICE's cache folder; default `$CAPTIONING_SPICE_CACHE`, else no cache. */
  spiceCacheDir?: string;
  /** Environment to read the variables from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A command ready to spawn. */
export interface JavaCommand {
  command: string;
  args: string[];
  /** The jar's folder: the toolkit runs each jar from there (it finds its data/lib). */
  cwd: string;
}

/** Either a jar we can run, or why not. */
export type JarResolution =
  | { available: true; java: string; jar: string }
  | { available: false; reason: string };

/** Resolves one jar from options and environment; checks that the file exists. */
export function resolveJar(
  metric: 'METEOR' | 'SPICE',
  options: JavaOptions = {},
): JarResolution {
  const env = options.env ?? process.env;
  const [jarOption, jarEnv, jarName] =
    metric === 'METEOR'
      ? [options.meteorJar, METEOR_JAR_ENV, 'meteor-1.5.jar']
      : [options.spiceJar, SPICE_JAR_ENV, 'spice-1.0.jar'];
  const jar = jarOption ?? env[jarEnv];
  if (jar === undefined || jar === '') {
    return {
      available: false,
      reason: `${metric} needs Java and the toolkit's ${jarName}: set ${jarEnv} (and ${JAVA_ENV} if java is not on PATH)`,
    };
  }
  const from = jarOption !== undefined ? 'options.java' : jarEnv;
  if (!fs.existsSync(jar)) {
    return { available: false, reason: `${metric} jar not found: ${jar} (from ${from})` };
  }
  const java = options.java ?? (env[JAVA_ENV] || 'java');
  return { available: true, java, jar: path.resolve(jar) };
}

/** SPICE's cache folder, if one is configured. */
export function resolveSpiceCache(options: JavaOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  return options.spiceCacheDir ?? (env[SPICE_CACHE_ENV] || undefined);
}

/** Output of a finished process. */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (stdin closed), collecting its output. */
export function runProcess(cmd: JavaCommand): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, { cwd: cmd.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new Error(`could not start ${cmd.command}: ${err.message}`)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The last lines of a process's error output, for messages. */
export function tail(text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}
