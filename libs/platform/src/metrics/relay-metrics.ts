import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one process (a registry per application instance, so tests can run several). Features
 * record through the typed fields; gauges that read live state register a collect callback.
 */
@Injectable()
export class RelayMetrics {
  readonly registry = new Registry();

  readonly webhookRequests = new Counter({
    name: 'relay_webhook_requests_total',
    help: 'Kakao webhook requests by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly webhookDuration = new Histogram({
    name: 'relay_webhook_duration_seconds',
    help: 'Time to answer a Kakao webhook (inline waits included)',
    labelNames: ['mode'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly messagesStored = new Counter({
    name: 'relay_messages_stored_total',
    help: 'Inbound messages stored for a paired agent',
    registers: [this.registry],
  });

  readonly messagesDelivered = new Counter({
    name: 'relay_messages_delivered_total',
    help: 'Message events written to agent streams',
    registers: [this.registry],
  });

  readonly streamEventSerializations = new Counter({
    name: 'relay_stream_event_serializations_total',
    help: 'Live stream events serialised (once per event per process, however many streams receive it)',
    registers: [this.registry],
  });

  readonly streamsRefused = new Counter({
    name: 'relay_streams_refused_total',
    help: 'Agent streams refused because the client address holds MAX_STREAMS_PER_IP',
    registers: [this.registry],
  });

  readonly streamsOpened = new Counter({
    name: 'relay_streams_opened_total',
    help: 'Agent streams opened on this process, by transport (sse, ws)',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly streamsClosed = new Counter({
    name: 'relay_streams_closed_total',
    help: 'Agent streams closed by the relay, by reason (replaced, slow_consumer, revoked, expired, shutdown)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly repliesAccepted = new Counter({
    name: 'relay_replies_accepted_total',
    help: 'Agent replies accepted',
    registers: [this.registry],
  });

  readonly messagesReplied = new Counter({
    name: 'relay_messages_replied_total',
    help: 'Messages whose (coalesced) reply reached Kakao',
    registers: [this.registry],
  });

  readonly messagesExpired = new Counter({
    name: 'relay_messages_expired_total',
    help: 'Messages that expired without delivery or reply',
    registers: [this.registry],
  });

  readonly callbackSends = new Counter({
    name: 'relay_callback_sends_total',
    help: 'Reply sends to Kakao by outcome (sent, failed, refused)',
    labelNames: ['outcome', 'mode'] as const,
    registers: [this.registry],
  });

  readonly worksSends = new Counter({
    name: 'relay_works_sends_total',
    help: 'Naver Works send attempts by outcome (sent, retrying, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly heldAnswers = new Counter({
    name: 'relay_held_answers_total',
    help:
      'Held Kakao answers (server-mode §4) by event: held, merged, event_accepted, event_failed, ' +
      'sent_event_api, sent_next_answer',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly pushDeliveries = new Counter({
    name: 'relay_push_deliveries_total',
    help: 'Push delivery attempts by outcome (delivered, retrying, failed, disabled, refused)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly pushLatency = new Histogram({
    name: 'relay_push_delivery_duration_seconds',
    help: "One push delivery attempt: the POST until the receiver's answer (or the timeout)",
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly callbackDuration = new Histogram({
    name: 'relay_callback_send_duration_seconds',
    help: 'Time to send a reply to Kakao, retries included',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'relay_process_' });
  }

  /** A gauge whose value is read when Prometheus scrapes. */
  gauge(
    name: string,
    help: string,
    labelNames: string[],
    collect: (gauge: Gauge) => Promise<void> | void,
  ): Gauge {
    const existing = this.registry.getSingleMetric(name);
    if (existing) this.registry.removeSingleMetric(name);
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        await collect(this);
      },
    });
  }
}
