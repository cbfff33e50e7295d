import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { KakaoEventJob, kakaoEventJobId, QUEUES } from '@app/messaging';

/**
 * Every Event API job: one per held answer (deterministic id), six attempts with exponential backoff from 2 s
 * (2, 4, 8, 16, 32 s) for transient failures (network, timeout, 429, 5xx) and the job's own errors; Kakao's
 * refusals are final at once. Nothing kept in Redis afterwards: every attempt is recorded on the held answer.
 */
export const KAKAO_EVENT_JOB_OPTIONS = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: true,
  removeOnFail: true,
} as const satisfies JobsOptions;

/** The one place that queues an Event API call. */
@Injectable()
export class KakaoEventQueue {
  constructor(@InjectQueue(QUEUES.kakaoEvent) private readonly queue: Queue<KakaoEventJob>) {}

  async add(heldId: string): Promise<void> {
    await this.queue.add('event', { heldId }, { ...KAKAO_EVENT_JOB_OPTIONS, jobId: kakaoEventJobId(heldId) });
  }
}
