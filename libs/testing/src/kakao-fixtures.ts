import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KakaoSkillPayload } from '@app/core';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'kakao');

export function loadFixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export interface PayloadOptions {
  utterance?: string;
  userKey?: string;
  botId?: string;
  callbackUrl?: string | null;
}

/** A realistic SkillPayload (from the fixtures) with the parts a test cares about replaced. */
export function kakaoPayload(options: PayloadOptions = {}): KakaoSkillPayload {
  const payload = loadFixture<KakaoSkillPayload>('skill-payload-callback.json');
  if (options.utterance !== undefined) payload.userRequest.utterance = options.utterance;
  if (options.userKey !== undefined) {
    payload.userRequest.user.properties = {
      ...payload.userRequest.user.properties,
      plusfriendUserKey: options.userKey,
    };
  }
  if (options.botId !== undefined) payload.bot = { ...payload.bot, id: options.botId };
  if (options.callbackUrl === null) delete payload.userRequest.callbackUrl;
  else if (options.callbackUrl !== undefined) payload.userRequest.callbackUrl = options.callbackUrl;
  return payload;
}

let counter = 0;
/** A callback URL unique to this test run (the relay de-duplicates on it). */
export function uniqueCallbackUrl(base = 'https://bot-api.kakao.com/v1/callback'): string {
  counter += 1;
  return `${base}/${process.pid}-${Date.now()}-${counter}`;
}

/** The keys of a Kakao `message` event, in the order agents receive them (contract §4, works-channel.md §1). */
export const KAKAO_MESSAGE_EVENT_KEYS = [
  'id',
  'conversationKey',
  'channel',
  'kakaoPayload',
  'normalized',
  'createdAt',
  'payload',
];
