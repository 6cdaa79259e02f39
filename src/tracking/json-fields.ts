/**
 * Checked reads of the fields of a JSON record (records.ts builds its status, summary and
 * config checks from these): type guards, and a reader whose failures are DamagedRunErrors
 * naming the file and the field at fault, e.g. `field "metrics[2].beam" should be a positive
 * integer, got 0`.
 */
import type { JsonValue } from './canonical';
import { DamagedRunError } from './errors';

/** A runtime check that narrows an unknown value to T. */
export type Guard<T> = (value: unknown) => value is T;

export function fail(file: string, field: string, expected: string, value: unknown): never {
  const shown = value === undefined ? 'missing' : JSON.stringify(value)?.slice(0, 80);
  throw new DamagedRunError(file, `field ${JSON.stringify(field)} should be ${expected}, got ${shown}`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export const isString: Guard<string> = (value): value is string => typeof value === 'string';
export const isNonEmptyString: Guard<string> = (value): value is string => typeof value === 'string' && value !== '';
export const isInteger: Guard<number> = (value): value is number => Number.isInteger(value);
export const isPositiveInteger: Guard<number> = (value): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 1;
export const isFiniteNumber: Guard<number> = (value): value is number => typeof value === 'number' && Number.isFinite(value);

/** One of the listed constants. */
export function isOneOf<T extends string | number | boolean>(values: readonly T[]): Guard<T> {
  return (value): value is T => (values as readonly unknown[]).includes(value);
}

const isArray: Guard<unknown[]> = (value): value is unknown[] => Array.isArray(value);

export function isArrayOf<T>(item: Guard<T>): Guard<T[]> {
  return (value): value is T[] => Array.isArray(value) && value.every((v) => item(v));
}

export function isRecordOf<T>(item: Guard<T>): Guard<Record<string, T>> {
  return (value): value is Record<string, T> => isObject(value) && Object.values(value).every((v) => item(v));
}

/** Plain JSON: what JSON.parse can return. */
export function isJsonValue(value: unknown): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  return isObject(value) && Object.values(value).every(isJsonValue);
}

/** Reads the fields of one object of a record; `field` is its path in the file ('(root)' for the file's top object). */
export class FieldReader {
  readonly fields: Record<string, unknown>;

  constructor(
    readonly file: string,
    value: unknown,
    readonly field: string,
  ) {
    this.fields = isObject(value) ? value : fail(file, field, 'an object', value);
  }

  /** The path of a member in failure messages: `key` at the root, `<field>.key` below it. */
  at(key: string): string {
    return this.field === '(root)' ? key : `${this.field}.${key}`;
  }

  /** A field that must be present and pass `guard`. */
  required<T>(key: string, expected: string, guard: Guard<T>): T {
    const value = this.fields[key];
    return guard(value) ? value : fail(this.file, this.at(key), expected, value);
  }

  /** A field that may be absent (undefined) but otherwise must pass `guard`. */
  optional<T>(key: string, expected: string, guard: Guard<T>): T | undefined {
    return this.fields[key] === undefined ? undefined : this.required(key, expected, guard);
  }

  /** A member checked by `check` (a nested object), which names it by its path in the file. */
  nested<T>(key: string, check: (file: string, value: unknown, field: string) => T): T {
    return check(this.file, this.fields[key], this.at(key));
  }

  /** A member that may be absent (undefined) but otherwise must pass `check`. */
  optionalNested<T>(key: string, check: (file: string, value: unknown, field: string) => T): T | undefined {
    return this.fields[key] === undefined ? undefined : this.nested(key, check);
  }

  /** The elements of an array member, each checked by `check` under its path (`metrics[2]`). */
  arrayOf<T>(key: string, check: (file: string, value: unknown, field: string) => T): T[] {
    return this.required(key, 'an array', isArray).map((item, i) => check(this.file, item, `${this.at(key)}[${i}]`));
  }

  /**
   * The record built from these fields, returned: undefined members (optional fields absent
   * from the file) removed, and the others in the file's order, so a record written back
   * reads as it did.
   */
  build<T extends object>(record: T): T {
    const order = Object.keys(this.fields);
    const keys = (Object.keys(record) as (keyof T & string)[]).sort((a, b) => order.indexOf(a) - order.indexOf(b));
    for (const key of keys) {
      const value = record[key];
      delete record[key];
      if (value !== undefined) record[key] = value;
    }
    return record;
  }
}
