import type { DataSource, Repository } from 'typeorm';
import type { InboundMessageEntity } from '../entities';
import { InboundMessagesRepository, NewInboundMessage } from './inbound-messages.repository';

interface Row {
  id: string;
  ord: number;
  normalized: { text: string };
}

/**
 * A fake PostgreSQL connection for the batch statement: `verdict(rows)` decides what one statement does —
 * return its rows or throw — and the first statement waits until `release()` so that later items gather.
 */
function fakeDatabase(verdict: (rows: Row[]) => Error | null) {
  const statements: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let first = true;
  const client = {
    async query({ values }: { values: unknown[] }) {
      const rows = JSON.parse(values[0] as string) as Row[];
      statements.push(rows.map((r) => r.normalized.text));
      if (first) {
        first = false;
        await gate;
      }
      const error = verdict(rows);
      if (error) throw error;
      return {
        rows: rows.map((r) => ({
          id: r.id,
          account_id: 'a',
          seq: String(r.ord + 1),
          created_at: new Date(),
        })),
        rowCount: rows.length,
      };
    },
  };
  const dataSource = {
    driver: { obtainMasterConnection: async () => [client, () => undefined] },
  } as unknown as DataSource;
  const repo = { findOne: async () => ({ id: 'existing' }) } as unknown as Repository<InboundMessageEntity>;
  return {
    statements,
    release: () => release(),
    store: new InboundMessagesRepository(repo, dataSource, { storeQueueMax: 100 }),
  };
}

function input(text: string): NewInboundMessage {
  return {
    channel: 'kakao',
    conversationKey: 'bot:user',
    payload: {},
    normalized: { userId: 'user', text, channelId: 'bot' },
    callbackUrl: null,
    replyDeadline: new Date(),
  };
}

const pgError = (code: string, message = code) => Object.assign(new Error(message), { code });

async function run(verdict: (rows: Row[]) => Error | null, texts: string[]) {
  const db = fakeDatabase(verdict);
  const answers = texts.map((t) => db.store.insertQueued(input(t)));
  db.release();
  const settled = await Promise.allSettled(answers);
  return {
    statements: db.statements,
    outcomes: settled.map((s) =>
      s.status === 'fulfilled' ? s.value.kind : `rejected ${(s.reason as { code?: string }).code}`,
    ),
  };
}

describe('InboundMessagesRepository batch isolation', () => {
  it.each(['54000', '22P05', '23514', 'XX000', '57014', '42P01'])(
    'stores the others one by one when a batch fails with %s',
    async (code) => {
      const { statements, outcomes } = await run(
        (rows) => (rows.some((r) => r.normalized.text === 'poison') ? pgError(code) : null),
        ['first', 'a', 'poison', 'b'],
      );
      expect(statements).toEqual([['first'], ['a', 'poison', 'b'], ['a'], ['poison'], ['b']]);
      expect(outcomes).toEqual(['created', 'created', `rejected ${code}`, 'created']);
    },
  );

  it('fails the rest at once when the database goes away while going one by one', async () => {
    let down = false;
    const { statements, outcomes } = await run(
      (rows) => {
        if (down) return pgError('ECONNREFUSED');
        if (!rows.some((r) => r.normalized.text === 'poison')) return null;
        if (rows.length > 1) return pgError('XX000');
        down = true;
        return pgError('57P01', 'terminating connection due to administrator command');
      },
      ['first', 'a', 'poison', 'b', 'c'],
    );
    // 'b' and 'c' are not tried: the database is gone, not their rows.
    expect(statements).toEqual([['first'], ['a', 'poison', 'b', 'c'], ['a'], ['poison']]);
    expect(outcomes).toEqual(['created', 'created', 'rejected 57P01', 'rejected 57P01', 'rejected 57P01']);
  });

  it('tells a duplicate callbackUrl apart when a message is stored alone', async () => {
    const { outcomes } = await run(() => pgError('23505'), ['only']);
    expect(outcomes).toEqual(['rejected 23505']);
    const db = fakeDatabase(() => pgError('23505'));
    db.release();
    await expect(db.store.insertQueued({ ...input('dup'), callbackUrl: 'https://x/cb' })).resolves.toEqual({
      kind: 'duplicate',
      existingId: 'existing',
    });
  });
});
