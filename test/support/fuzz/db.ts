import { sql } from '@app/testing';

/** Row counts of every table a request can create rows in, plus the states a rejected request must not move. */
export interface RowCounts {
  accounts: number;
  sessions: number;
  sessions_pending: number;
  sessions_paired: number;
  sessions_bound_pending: number;
  conversations: number;
  conversations_paired: number;
  inbound_messages: number;
  outbound_messages: number;
}

export const NO_CHANGE: Partial<RowCounts> = {};

export async function rowCounts(): Promise<RowCounts> {
  const [row] = await sql<Record<keyof RowCounts, number>>(`
    SELECT
      (SELECT count(*)::int FROM accounts) AS accounts,
      (SELECT count(*)::int FROM sessions) AS sessions,
      (SELECT count(*)::int FROM sessions WHERE status = 'pending_pairing') AS sessions_pending,
      (SELECT count(*)::int FROM sessions WHERE status = 'paired') AS sessions_paired,
      (SELECT count(*)::int FROM sessions WHERE status = 'pending_pairing' AND account_id IS NOT NULL)
        AS sessions_bound_pending,
      (SELECT count(*)::int FROM conversations) AS conversations,
      (SELECT count(*)::int FROM conversations WHERE state = 'paired') AS conversations_paired,
      (SELECT count(*)::int FROM inbound_messages) AS inbound_messages,
      (SELECT count(*)::int FROM outbound_messages) AS outbound_messages`);
  return row;
}

/** `before` moved by exactly `delta` (absent keys: unchanged). */
export function expected(before: RowCounts, delta: Partial<RowCounts>): RowCounts {
  const out = { ...before };
  for (const [k, v] of Object.entries(delta) as Array<[keyof RowCounts, number]>) out[k] += v;
  return out;
}
