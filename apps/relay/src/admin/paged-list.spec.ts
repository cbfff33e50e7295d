import { ValidationError } from '@app/core';
import type { PageWindow } from '@app/persistence';
import { decodeCursor, encodeCursor } from './page-cursor';
import { DEFAULT_PAGE_LIMIT, pagedList } from './paged-list';

interface Row {
  id: string;
  createdAt: Date;
  pairedAt: Date | null;
  state: string;
}

const id = (n: number) => `0190a5c4-0000-7000-8000-${String(n).padStart(12, '0')}`;
/** 60 rows, newest first, one second apart. */
const ROWS: Row[] = Array.from({ length: 60 }, (_, i) => ({
  id: id(60 - i),
  createdAt: new Date(Date.UTC(2026, 0, 1, 12, 0, 60 - i)),
  pairedAt: i % 2 ? null : new Date(Date.UTC(2026, 0, 2)),
  state: 'paired',
}));

/** Reads like the repository: rows after the cursor in (createdAt, id) order, at most `take`. */
function table() {
  const windows: PageWindow[] = [];
  const read = async (window: PageWindow): Promise<Row[]> => {
    windows.push(window);
    const after = window.after;
    return ROWS.filter(
      (r) =>
        !after ||
        r.createdAt.toISOString() < after.createdAt ||
        (r.createdAt.toISOString() === after.createdAt && r.id < after.id),
    ).slice(0, window.take);
  };
  return { read, windows };
}

describe('pagedList', () => {
  it('reads one row more than the default limit and answers JSON rows with a cursor to the next page', async () => {
    const { read, windows } = table();
    const page = await pagedList({}, read);
    expect(windows).toEqual([{ after: null, take: DEFAULT_PAGE_LIMIT + 1 }]);
    expect(page.items).toHaveLength(DEFAULT_PAGE_LIMIT);
    expect(page.items[0]).toEqual({
      id: ROWS[0].id,
      createdAt: ROWS[0].createdAt.toISOString(),
      pairedAt: '2026-01-02T00:00:00.000Z',
      state: 'paired',
    });
    expect(page.items[1].pairedAt).toBeNull();
    const last = ROWS[DEFAULT_PAGE_LIMIT - 1];
    expect(decodeCursor(page.nextCursor ?? undefined)).toEqual({
      createdAt: last.createdAt.toISOString(),
      id: last.id,
    });
  });

  it('walks the whole list with limit and cursor, each row once, and ends with a null cursor', async () => {
    const { read, windows } = table();
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await pagedList({ limit: 25, cursor }, read);
      seen.push(...page.items.map((r) => r.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(ROWS.map((r) => r.id));
    expect(windows.map((w) => w.take)).toEqual([26, 26, 26]);
  });

  it('gives no next cursor when the rows fit exactly', async () => {
    const { read } = table();
    const page = await pagedList({ limit: 60 }, read);
    expect(page.items).toHaveLength(60);
    expect(page.nextCursor).toBeNull();
  });

  it('refuses a cursor it did not make with 400, before reading', async () => {
    const { read, windows } = table();
    const notOurs = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    await expect(pagedList({ cursor: notOurs }, read)).rejects.toBeInstanceOf(ValidationError);
    await expect(pagedList({ cursor: 'bm9wZQ' }, read)).rejects.toMatchObject({ statusCode: 400 });
    expect(windows).toEqual([]);
  });

  it('round-trips cursors', () => {
    const cursor = { createdAt: '2026-01-01T12:00:00.000Z', id: id(7) };
    expect(decodeCursor(encodeCursor(cursor) ?? undefined)).toEqual(cursor);
    expect(encodeCursor(null)).toBeNull();
  });
});
