import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  KakaoBotSettingsInput,
  KakaoBotStore,
  KakaoBotSummary,
  KakaoEventSettings,
  MAX_KAKAO_BOTS_LISTED,
  SecretBox,
} from '@app/core';
import { affectedRows, queryRow, queryRows } from '../sql';

const SUMMARY_COLUMNS = `bot_id AS "botId", name, event_name AS "eventName",
  (rest_api_key_sealed <> '') AS "hasRestApiKey", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Kakao bots' Event API settings on PostgreSQL (`kakao_bots`); the REST API key sealed by `SecretBox`. */
@Injectable()
export class KakaoBotsRepository implements KakaoBotStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly box: SecretBox,
  ) {}

  async put(
    botId: string,
    settings: KakaoBotSettingsInput,
  ): Promise<{ bot: KakaoBotSummary; created: boolean }> {
    const row = await queryRow<KakaoBotSummary & { created: boolean }>(
      this.db,
      `INSERT INTO kakao_bots (bot_id, name, event_name, rest_api_key_sealed) VALUES ($1, $2, $3, $4)
       ON CONFLICT (bot_id) DO UPDATE
         SET name = EXCLUDED.name, event_name = EXCLUDED.event_name,
             rest_api_key_sealed = EXCLUDED.rest_api_key_sealed, updated_at = now()
       RETURNING ${SUMMARY_COLUMNS}, (xmax = 0) AS created`,
      [botId, settings.name, settings.eventName, this.box.seal(settings.restApiKey)],
    );
    if (!row) throw new Error('kakao bot not stored');
    const { created, ...bot } = row;
    return { bot, created };
  }

  get(botId: string): Promise<KakaoBotSummary | null> {
    return queryRow<KakaoBotSummary>(this.db, `SELECT ${SUMMARY_COLUMNS} FROM kakao_bots WHERE bot_id = $1`, [
      botId,
    ]);
  }

  list(): Promise<KakaoBotSummary[]> {
    return queryRows<KakaoBotSummary>(
      this.db,
      `SELECT ${SUMMARY_COLUMNS} FROM kakao_bots ORDER BY bot_id LIMIT $1`,
      [MAX_KAKAO_BOTS_LISTED],
    );
  }

  async delete(botId: string): Promise<boolean> {
    return (await affectedRows(this.db, `DELETE FROM kakao_bots WHERE bot_id = $1`, [botId])) > 0;
  }

  async hasEventApi(botId: string): Promise<boolean> {
    return !!(await queryRow(this.db, `SELECT 1 FROM kakao_bots WHERE bot_id = $1`, [botId]));
  }

  async eventSettings(botId: string): Promise<KakaoEventSettings | null> {
    const row = await queryRow<{ eventName: string; sealed: string }>(
      this.db,
      `SELECT event_name AS "eventName", rest_api_key_sealed AS sealed FROM kakao_bots WHERE bot_id = $1`,
      [botId],
    );
    return row ? { botId, eventName: row.eventName, restApiKey: this.box.open(row.sealed) } : null;
  }
}
