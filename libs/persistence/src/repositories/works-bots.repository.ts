import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  NewWorksBot,
  SecretBox,
  uuidV7,
  WorksBotChanges,
  WorksBotCredentials,
  WorksBotRegistry,
  WorksBotStore,
  WorksBotSummary,
  WorksBotWindow,
} from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

const SUMMARY_COLUMNS = `id, bot_id AS "botId", name, enabled, client_id AS "clientId",
  service_account AS "serviceAccount", (private_key_sealed <> '') AS "hasPrivateKey",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

interface SealedRow {
  botId: string;
  name: string | null;
  enabled: boolean;
  botSecret: string;
  clientId: string;
  clientSecret: string;
  serviceAccount: string;
  privateKey: string;
}

/**
 * The registered Works bots on PostgreSQL (`works_bots`): `WorksBotStore` for the callback and the send path
 * (secrets opened with the `SecretBox`) and `WorksBotRegistry` for the admin API (secrets sealed on the way in,
 * never read back). The bot of the `WORKS_*` variables (a one-bot install) is not stored: `findByBotId` answers
 * it from the configuration first, so it wins over a stored bot of the same id (the admin API refuses to
 * register that id).
 */
@Injectable()
export class WorksBotsRepository implements WorksBotStore, WorksBotRegistry {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly box: SecretBox,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  async findByBotId(botId: string): Promise<WorksBotCredentials | null> {
    const env = this.config.worksBot;
    if (env && env.botId === botId) {
      return {
        botId: env.botId,
        name: null,
        enabled: true,
        botSecret: env.botSecret,
        clientId: env.clientId,
        clientSecret: env.clientSecret,
        serviceAccount: env.serviceAccount,
        privateKey: env.privateKey,
      };
    }
    const row = await queryRow<SealedRow>(
      this.db,
      `SELECT bot_id AS "botId", name, enabled, bot_secret_sealed AS "botSecret", client_id AS "clientId",
              client_secret_sealed AS "clientSecret", service_account AS "serviceAccount",
              private_key_sealed AS "privateKey"
         FROM works_bots WHERE bot_id = $1`,
      [botId],
    );
    if (!row) return null;
    return {
      ...row,
      botSecret: this.box.open(row.botSecret),
      clientSecret: this.box.open(row.clientSecret),
      privateKey: this.box.open(row.privateKey),
    };
  }

  create(bot: NewWorksBot): Promise<WorksBotSummary | null> {
    return queryRow<WorksBotSummary>(
      this.db,
      `INSERT INTO works_bots (id, bot_id, name, bot_secret_sealed, client_id, client_secret_sealed,
                               service_account, private_key_sealed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (bot_id) DO NOTHING
       RETURNING ${SUMMARY_COLUMNS}`,
      [
        uuidV7(),
        bot.botId,
        bot.name,
        this.box.seal(bot.botSecret),
        bot.clientId,
        this.box.seal(bot.clientSecret),
        bot.serviceAccount,
        this.box.seal(bot.privateKey),
      ],
    );
  }

  list(window: WorksBotWindow): Promise<WorksBotSummary[]> {
    return queryRows<WorksBotSummary>(
      this.db,
      `SELECT ${SUMMARY_COLUMNS} FROM works_bots
        WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $3`,
      [window.after?.createdAt ?? null, window.after?.id ?? null, window.take],
    );
  }

  get(botId: string): Promise<WorksBotSummary | null> {
    return queryRow<WorksBotSummary>(this.db, `SELECT ${SUMMARY_COLUMNS} FROM works_bots WHERE bot_id = $1`, [
      botId,
    ]);
  }

  /** One constant statement: a column keeps its value where its parameter is null (`name`: where $3 is false). */
  update(botId: string, changes: WorksBotChanges): Promise<WorksBotSummary | null> {
    const seal = (value: string | undefined) => (value === undefined ? null : this.box.seal(value));
    return queryRow<WorksBotSummary>(
      this.db,
      `UPDATE works_bots SET
          name = CASE WHEN $3::boolean THEN $2::text ELSE name END,
          enabled = COALESCE($4::boolean, enabled),
          bot_secret_sealed = COALESCE($5::text, bot_secret_sealed),
          client_id = COALESCE($6::text, client_id),
          client_secret_sealed = COALESCE($7::text, client_secret_sealed),
          service_account = COALESCE($8::text, service_account),
          private_key_sealed = COALESCE($9::text, private_key_sealed),
          updated_at = now()
        WHERE bot_id = $1
        RETURNING ${SUMMARY_COLUMNS}`,
      [
        botId,
        changes.name ?? null,
        changes.name !== undefined,
        changes.enabled ?? null,
        seal(changes.botSecret),
        changes.clientId ?? null,
        seal(changes.clientSecret),
        changes.serviceAccount ?? null,
        seal(changes.privateKey),
      ],
    );
  }

  async delete(botId: string): Promise<boolean> {
    return (await affectedRows(this.db, `DELETE FROM works_bots WHERE bot_id = $1`, [botId])) > 0;
  }
}
