import { ValidationError } from '@app/core';
import type { PageCursor } from '@app/persistence';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque keyset cursors: base64url of `[createdAt, id]`. */
export function encodeCursor(cursor: PageCursor | null): string | null {
  return cursor ? Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url') : null;
}

export function decodeCursor(raw: string | undefined): PageCursor | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      !Number.isNaN(Date.parse(value[0])) &&
      UUID.test(value[1])
    ) {
      return { createdAt: new Date(value[0]).toISOString(), id: value[1] };
    }
  } catch {
    // fall through
  }
  throw new ValidationError('cursor is not valid', [{ field: 'cursor', message: 'cursor is not valid' }]);
}

/** A row as JSON sends it: Dates become ISO strings. */
export type Json<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};

export function toJson<T extends object>(item: T): Json<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out as Json<T>;
}
