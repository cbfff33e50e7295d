import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Late and proactive answers (server-mode §4–§6).
 *
 * `held_answers`: an answer Kakao could not take when it came — replies to a message whose callback was used or
 * expired (merged per message: one open row per message), or a proactive `POST /v1/messages` — waiting to go out
 * by the Event API or with the conversation's next answer. `id` is the `heldId` of the Event API's event data
 * (and the proactive message's id). Status: `held` (waiting; the next answer takes it), `event_pending` (an Event
 * API call is queued, in flight, or accepted by Kakao: the next answer leaves it alone), `claimed` (taken by the
 * next answer's send, `claimed_by` = that `outbound_messages` row; back to `held` if that send fails), `sent`
 * (`sent_via` = `event_api` | `next_answer`), `expired` (past `expires_at`), `failed`.
 *
 * `kakao_bots`: a Kakao bot's Event API settings; the REST API key sealed by `SecretBox`.
 */
export class HeldAnswers1795000000011 implements MigrationInterface {
  name = 'HeldAnswers1795000000011';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE held_answers (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('late_reply', 'proactive')),
        inbound_message_id uuid REFERENCES inbound_messages (id) ON DELETE SET NULL,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        conversation_key text NOT NULL,
        bot_id text NOT NULL,
        bot_user_key text,
        replies jsonb NOT NULL,
        status text NOT NULL DEFAULT 'held'
          CHECK (status IN ('held', 'event_pending', 'claimed', 'sent', 'expired', 'failed')),
        sent_via text CHECK (sent_via IN ('event_api', 'next_answer')),
        claimed_by uuid,
        claimed_at timestamptz,
        event_attempts integer NOT NULL DEFAULT 0,
        event_last_http_status integer,
        event_task_id text,
        error text,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`);
    // One open row per message: later late replies to it are merged into it.
    await q.query(`
      CREATE UNIQUE INDEX held_answers_open_per_message ON held_answers (inbound_message_id)
       WHERE status IN ('held', 'event_pending') AND inbound_message_id IS NOT NULL`);
    await q.query(`
      CREATE INDEX held_answers_waiting ON held_answers (conversation_key, created_at)
       WHERE status = 'held'`);
    await q.query(
      `CREATE INDEX held_answers_claimed_by ON held_answers (claimed_by) WHERE claimed_by IS NOT NULL`,
    );
    await q.query(`CREATE INDEX held_answers_created ON held_answers (created_at DESC, id DESC)`);
    await q.query(`
      CREATE INDEX held_answers_unfinished ON held_answers (expires_at)
       WHERE status IN ('held', 'event_pending', 'claimed')`);
    // GET /v1/messages/{replyId}: which row holds a reply (held or sent on time).
    await q.query(`CREATE INDEX held_answers_replies ON held_answers USING gin (replies jsonb_path_ops)`);
    await q.query(
      `CREATE INDEX outbound_messages_replies ON outbound_messages USING gin (replies jsonb_path_ops)`,
    );
    await q.query(`
      CREATE TABLE kakao_bots (
        bot_id text PRIMARY KEY,
        name text,
        event_name text NOT NULL,
        rest_api_key_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE kakao_bots`);
    await q.query(`DROP INDEX outbound_messages_replies`);
    await q.query(`DROP TABLE held_answers`);
  }
}
