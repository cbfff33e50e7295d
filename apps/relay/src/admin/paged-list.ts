import type { PageCursor, PageWindow } from '@app/persistence';
import { decodeCursor, encodeCursor, Json, toJson } from './page-cursor';

export const DEFAULT_PAGE_LIMIT = 25;

/** `limit` and `cursor` of a list request, validated by `PageQueryDto`. */
export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/** A row of a keyset-paginated list: newest first by `(createdAt, id)`. */
export interface KeysetRow {
  createdAt: Date;
  id: string;
}

export interface JsonPage<T> {
  items: Json<T>[];
  nextCursor: string | null;
}

/**
 * One page of an admin list, the same way for every list: decodes the cursor (400 if it is not one of ours),
 * reads one row more than the limit to learn whether another page follows, and answers the rows as JSON with
 * the cursor of the last one when it does.
 */
export async function pagedList<T extends KeysetRow>(
  query: PageQuery,
  read: (window: PageWindow) => Promise<T[]>,
): Promise<JsonPage<T>> {
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
  const rows = await read({ after: decodeCursor(query.cursor), take: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const next: PageCursor | null =
    rows.length > limit && last ? { createdAt: last.createdAt.toISOString(), id: last.id } : null;
  return { items: items.map((item) => toJson(item)), nextCursor: encodeCursor(next) };
}
