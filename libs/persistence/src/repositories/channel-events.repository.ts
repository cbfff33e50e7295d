import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChannelEvent, ChannelEventStore, uuidV7 } from '@app/core';
import { queryRows } from '../sql';

/** `channel_events`: a messenger's events that are not messages, recorded once each. */
@Injectable()
export class ChannelEventsRepository implements ChannelEventStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(event: ChannelEvent): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      this.dataSource,
      `INSERT INTO channel_events (id, channel, conversation_key, type, payload, dedupe_key)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        uuidV7(),
        event.channel,
        event.conversationKey,
        event.type,
        JSON.stringify(event.payload),
        event.dedupeKey,
      ],
    );
    return rows.length > 0;
  }
}
