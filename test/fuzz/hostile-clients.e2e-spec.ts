import {
  ANY_ERROR_CODE,
  createSession,
  errorBodyProblems,
  pairAgent,
  PairedAgent,
  sendMessage,
  SseClient,
  SseEvent,
  TEST_REDIS_PREFIX,
  userMessage,
  waitUntil,
} from '@app/testing';
import { RunningRelay } from '../support/test-app';
import { PubSubService, RedisService } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { StreamHub } from '@app/streams';
import { rowCounts } from '../support/fuzz/db';
import { send } from '../support/fuzz/http-client';
import { sseOk } from '../support/fuzz/oracles';
import { Expectation } from '../support/fuzz/recorder';
import { EP, fuzzSuite, phaseRng } from '../support/fuzz/suite';
import { StalledStream } from '../support/stalled-stream';

/*
 * Fuzz e2e (see test/support/fuzz/suite.ts): hostile stream clients against a relay of its own with small caps;
 * no limit may lose an accepted message: every stream it closes resumes with Last-Event-ID and gets the rest.
 */

const TOKEN_CAP = 3;
const IP_CAP = 8;
/** Its own relay and Redis namespace: small limits, and a heartbeat that re-checks slots every second. */
const HOSTILE_RELAY_ENV = {
  REDIS_PREFIX: `${TEST_REDIS_PREFIX}-hostile`,
  MAX_STREAMS_PER_TOKEN: String(TOKEN_CAP),
  MAX_STREAMS_PER_IP: String(IP_CAP),
  STREAM_MAX_BUFFER_BYTES: String(64 * 1024),
  SSE_HEARTBEAT_SECONDS: '1',
};

/** `Last-Event-ID`s of a hostile client: numbers, junk, out of range (junk counts as absent). */
const ODD_LAST_EVENT_IDS = [
  '',
  '0',
  '1',
  '-1',
  'x',
  ' 2 ',
  '1e3',
  '0x10',
  'NaN',
  '9'.repeat(15),
  '9'.repeat(30),
];

/** A user message of about `kib` KiB: an extra top-level field the relay stores and forwards as received. */
function paddedMessage(userKey: string, text: string, kib: number) {
  const payload = userMessage(userKey, text);
  (payload as unknown as { padding: string }).padding = 'x'.repeat(kib * 1024);
  return payload;
}

interface SeenMessage {
  id: number;
  text: string;
}

/** The message events of an SseClient, or what `StalledStream.drain()` answers (message events, no `event` field). */
function seenOf(events: Array<{ id?: string | number; event?: string; data: string }>): SeenMessage[] {
  return events
    .filter((e) => e.event === undefined || e.event === 'message')
    .map((e) => ({
      id: Number(e.id),
      text: (JSON.parse(e.data) as { normalized: { text: string } }).normalized.text,
    }));
}

function lastMessageId(stream: SseClient): number {
  const messages = stream.events.filter((e: SseEvent) => e.event === 'message');
  return Number(messages.at(-1)?.id ?? 0);
}

/** Why `got` is not exactly the messages 1..n (texts `texts`), each once and in order; null when it is. */
function sequenceProblem(got: SeenMessage[], texts: string[]): string | null {
  const ids = got.map((g) => g.id).join(',');
  for (let i = 0; i < Math.max(got.length, texts.length); i++) {
    if (got[i]?.id !== i + 1) return `ids [${ids.slice(0, 200)}] are not 1..${texts.length}`;
    if (got[i].text !== texts[i]) {
      return `message ${i + 1} reads ${JSON.stringify(got[i].text)}, not ${JSON.stringify(texts[i])}`;
    }
  }
  return null;
}

async function metricValue(relay: RunningRelay, name: string, labels = ''): Promise<number> {
  const text = await relay.app.get(RelayMetrics).registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/**
 * Open-stream entries in Redis (per credential and per address; the `replaced` sets are tombstones that expire
 * with their key, not places).
 */
async function slotEntries(relay: RunningRelay, kind: 'addr' | 'cred' | '*' = '*'): Promise<number> {
  const redis = relay.app.get(RedisService);
  const kinds = kind === '*' ? ['addr', 'cred'] : [kind];
  const keys = (
    await Promise.all(kinds.map((k) => redis.command.keys(redis.key('stream-slots', k, '*'))))
  ).flat();
  let n = 0;
  for (const key of keys) n += await redis.command.zcard(key);
  return n;
}

/** Whether `check` came true in time (a finding, not an exception, when it did not). */
async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<boolean> {
  try {
    await waitUntil(check, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

describe('fuzz: hostile stream clients against the stream limits (e2e)', () => {
  const fuzz = fuzzSuite('hostile-clients', { relay: HOSTILE_RELAY_ENV, world: false });
  const { recorder, expectPhase } = fuzz;

  it('hostile stream clients: bursts past the token cap, a full address, non-reading and aborted streams; nothing accepted is lost', async () => {
    const phase = 'stream-limits';
    const rng = phaseRng(phase);
    const hostile = fuzz.world.relay;
    const hub = hostile.app.get(StreamHub);
    const pubsub = hostile.app.get(PubSubService);
    const clients: Array<SseClient | StalledStream> = [];
    const finding = (label: string, problem: string, body = '') =>
      recorder.violations.push({ phase, endpoint: EP.events, label, problem, status: 0, body });
    const tooMany: Expectation = { allowed: [429], codes: ['TOO_MANY_STREAMS'] };
    const streamOk: Expectation = { allowed: [200], ok: (res) => sseOk(res) };

    /** Opens a stream and checks its answer: the first event of a 200, the whole body of anything else. */
    async function openChecked(
      label: string,
      token: string,
      expect: Expectation,
      options: { query?: boolean; lastEventId?: string | number } = {},
    ): Promise<SseClient | null> {
      let stream: SseClient;
      try {
        stream = await SseClient.connect(hostile.url, {
          token,
          tokenInQuery: options.query,
          lastEventId: options.lastEventId,
        });
      } catch (e) {
        const error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        const res = { status: 0, headers: {}, body: Buffer.alloc(0), text: '', timedOut: false, raw: false };
        recorder.check({ phase, endpoint: EP.events, label, res: { ...res, ms: 0, error }, expect });
        return null;
      }
      clients.push(stream);
      // Awaited event by event, not polled: a resuming client may drop the stream right after its first events.
      const answered = await Promise.race([
        ...(stream.status === 200 ? [stream.waitFor(() => true, 5000)] : []),
        stream.waitForEnd(5000),
      ]).then(
        () => true,
        () => false,
      );
      const text = stream.body;
      const first = text.indexOf('\n\n');
      recorder.check({
        phase,
        endpoint: EP.events,
        label,
        expect,
        res: {
          status: stream.status,
          headers: stream.headers,
          body: Buffer.from(text),
          text,
          timedOut: !answered,
          raw: false,
          ms: 0,
          sseFirstBlock: stream.status === 200 && first >= 0 ? text.slice(0, first + 2) : undefined,
        },
      });
      if (stream.status === 429) {
        // The recorder checked the code; a refused stream carries no details and says when to come back.
        for (const problem of errorBodyProblems(stream, 429, ANY_ERROR_CODE, { retryAfter: true }))
          finding(label, `429 ${problem}`, text);
      }
      if (stream.status !== 200) stream.close();
      return stream;
    }

    /** Closes what is open and waits until the relay let go of every stream and every slot. */
    async function closeAll(step: string): Promise<void> {
      for (const c of clients.splice(0)) {
        if (c instanceof SseClient) c.close();
        else c.destroy();
      }
      const released = await eventually(async () => hub.size === 0 && (await slotEntries(hostile)) === 0);
      if (!released)
        finding(step, `${hub.size} streams / ${await slotEntries(hostile)} slots left after closing`);
    }

    /**
     * Resumes with Last-Event-ID = the last id seen until all `total` messages arrived (at most 4 attempts, each
     * making progress: a resumed reading stream may itself be closed when one replay page exceeds the limit).
     */
    async function resumeAll(
      token: string,
      got: SeenMessage[],
      total: number,
      label: string,
    ): Promise<number> {
      let attempts = 0;
      while ((got.at(-1)?.id ?? 0) < total && attempts < 4) {
        attempts += 1;
        const last = got.at(-1)?.id ?? 0;
        const stream = await openChecked(`${label}: resume after ${last}`, token, streamOk, {
          lastEventId: last,
        });
        if (stream?.status !== 200) return attempts;
        await eventually(() => stream.ended || lastMessageId(stream) >= total, 10000);
        stream.close();
        got.push(...seenOf(stream.events));
        if ((got.at(-1)?.id ?? 0) <= last) {
          finding(label, `resume after ${last} brought nothing new`);
          return attempts;
        }
      }
      return attempts;
    }

    try {
      const baselineChannels = pubsub.subscribedChannelCount;
      const agents: PairedAgent[] = [];
      for (const name of ['burst-a', 'burst-b', 'slow-0', 'slow-1', 'replay']) {
        agents.push(await pairAgent(hostile.url, `fuzz-hostile-${name}`));
      }
      const pendings = [await createSession(hostile.url), await createSession(hostile.url)];
      const before = await rowCounts();
      let sent = 0;
      for (let i = 1; i <= 2; i++) {
        await sendMessage(hostile.url, userMessage(agents[0].userKey, `burst backlog ${i}`));
        sent += 1;
      }
      const tokens = [
        { label: 'paired A', token: agents[0].token },
        { label: 'paired B', token: agents[1].token },
        { label: 'pending 1', token: pendings[0].sessionToken },
        { label: 'pending 2', token: pendings[1].sessionToken },
      ];

      // 1. Bursts past the token cap, at once and one after another: every stream starts with `connected` (or is
      //    replaced first), exactly the cap stays open, and every other one ends with STREAM_REPLACED.
      for (let round = 0; round < 4; round++) {
        const who = rng.pick(tokens.slice(0, 3));
        const size = rng.int(TOKEN_CAP + 1, TOKEN_CAP + 4);
        const together = round === 0 || (round !== 1 && rng.chance(0.5));
        const step = `burst ${round}: ${size} × ${who.label}${together ? ' at once' : ' in a row'}`;
        const specs = Array.from({ length: size }, (_, i) => ({
          label: `${step} #${i}`,
          query: rng.chance(0.3),
          lastEventId: rng.chance(0.4) ? rng.pick(ODD_LAST_EVENT_IDS) : undefined,
        }));
        const open = (s: (typeof specs)[number]) =>
          openChecked(`${s.label}${s.query ? ' ?token=' : ''}`, who.token, streamOk, s);
        const streams: Array<SseClient | null> = [];
        if (together) streams.push(...(await Promise.all(specs.map(open))));
        else for (const s of specs) streams.push(await open(s));
        const opened = streams.filter((s): s is SseClient => s !== null && s.status === 200);
        await eventually(() => opened.filter((s) => !s.ended).length <= TOKEN_CAP);
        const live = opened.filter((s) => !s.ended).length;
        if (live !== TOKEN_CAP) finding(step, `${live} streams of one token open after the burst`);
        for (const s of opened.filter((x) => x.ended)) {
          const last = s.events.at(-1);
          if (last?.event !== 'error' || !last.data.includes('"code":"STREAM_REPLACED"')) {
            finding(step, 'a stream ended without STREAM_REPLACED as its last event', s.body.slice(-300));
          }
        }
        if (!together) {
          // In a row, the replaced ones are exactly the oldest.
          const ended = opened.map((s) => s.ended);
          const expected = opened.map((_, i) => i < opened.length - TOKEN_CAP);
          if (ended.join() !== expected.join())
            finding(step, `ended ${ended.join()}, expected ${expected.join()}`);
        }
        await closeAll(step);
      }

      // 2. One address past MAX_STREAMS_PER_IP across several tokens, against a model of what must be open:
      //    refusals are 429 TOO_MANY_STREAMS, a token at its own cap replaces its oldest even from a full address,
      //    and a closed stream gives its place back.
      const held = new Map(tokens.map((t) => [t.label, [] as SseClient[]]));
      let open = 0;
      let refused = 0;
      let replacedFull = 0;
      const openOne = async (who: (typeof tokens)[number], step: string) => {
        const list = held.get(who.label) as SseClient[];
        const replaces = list.length >= TOKEN_CAP;
        const expectRefusal = !replaces && open >= IP_CAP;
        const label = `${step}: ${who.label} (${open} open, ${list.length} of its own)`;
        const s = await openChecked(label, who.token, expectRefusal ? tooMany : streamOk, {
          query: rng.chance(0.3),
        });
        if (s?.status === 429) refused += 1;
        if (s?.status !== 200) return;
        if (replaces) {
          if (open >= IP_CAP) replacedFull += 1;
          const oldest = list.shift() as SseClient;
          const ended = await eventually(() => oldest.ended);
          if (!ended || oldest.events.at(-1)?.event !== 'error')
            finding(label, 'the oldest stream was not replaced');
        } else open += 1;
        list.push(s);
      };
      const closeOne = async (step: string) => {
        const owners = [...held.values()].filter((l) => l.length > 0);
        const list = rng.pick(owners);
        const [victim] = list.splice(rng.int(0, list.length - 1), 1);
        victim.close();
        open -= 1;
        if (!(await eventually(async () => (await slotEntries(hostile, 'addr')) === open))) {
          finding(
            step,
            `a closed stream did not give its place back (${await slotEntries(hostile, 'addr')} ≠ ${open})`,
          );
        }
      };
      const steps = rng.int(16, 22);
      for (let i = 0; i < steps; i++) {
        if (open > 0 && rng.chance(0.2)) await closeOne(`address step ${i} close`);
        else await openOne(rng.pick(tokens), `address step ${i}`);
      }
      const underCap = () => tokens.filter((t) => (held.get(t.label) as SseClient[]).length < TOKEN_CAP);
      for (let i = 0; i < IP_CAP && open < IP_CAP; i++) await openOne(rng.pick(underCap()), 'address fill');
      await openOne(rng.pick(underCap()), 'address full');
      const atCap = tokens.filter((t) => (held.get(t.label) as SseClient[]).length >= TOKEN_CAP);
      if (atCap.length > 0) await openOne(rng.pick(atCap), 'address full, token at its cap');
      await closeOne('address full, close one');
      await openOne(rng.pick(underCap()), 'address place given back');
      await closeAll('address cap');

      // 3. Non-reading clients while large messages arrive for their accounts: the relay closes them as slow
      //    consumers, and each resumes with Last-Event-ID and gets every message, once, in order.
      const slowAgents = [agents[2], agents[3]];
      const stalled: Array<{ account: number; stream: StalledStream }> = [];
      for (const [account, count] of [rng.int(1, 3), rng.int(1, 2)].entries()) {
        for (let i = 0; i < count; i++) {
          const stream = await StalledStream.open(hostile.port, slowAgents[account].token);
          clients.push(stream);
          if (stream.status !== 200)
            finding(`stalled ${account}`, `stalled stream answered ${stream.status}`);
          stalled.push({ account, stream });
        }
      }
      await eventually(() => hub.size === stalled.length);
      const slowBefore = await metricValue(hostile, 'relay_streams_closed_total', '{reason="slow_consumer"}');
      const texts: string[][] = [[], []];
      for (let round = 0; round < 16 && hub.size > 0; round++) {
        for (const [account, agent] of slowAgents.entries()) {
          const text = `slow ${account} #${texts[account].length + 1} 느린 ${rng.hex(6)}`;
          await sendMessage(hostile.url, paddedMessage(agent.userKey, text, rng.int(300, 900)));
          texts[account].push(text);
          sent += 1;
        }
      }
      const slowClosed = await eventually(() => hub.size === 0, 10000);
      const slowConsumers =
        (await metricValue(hostile, 'relay_streams_closed_total', '{reason="slow_consumer"}')) - slowBefore;
      let resumes = 0;
      for (const [i, { account, stream }] of stalled.entries()) {
        const label = `stalled ${i} of account ${account}`;
        let got: SeenMessage[] = [];
        try {
          got = seenOf(await stream.drain(10000));
        } catch (e) {
          finding(label, (e as Error).message);
          stream.destroy();
        }
        resumes += await resumeAll(slowAgents[account].token, got, texts[account].length, label);
        const problem = sequenceProblem(got, texts[account]);
        if (problem) finding(label, problem);
      }
      await closeAll('slow consumers');

      // 4. Clients that drop a replay half-way (reading, or not reading at all) and reconnect at once with
      //    Last-Event-ID: the last one still gets everything after what was seen.
      const backlog = rng.int(30, 40);
      const replayTexts: string[] = [];
      for (let i = 1; i <= backlog; i++) {
        const text = `replay #${i} ${rng.hex(6)}`;
        await sendMessage(hostile.url, paddedMessage(agents[4].userKey, text, rng.int(8, 40)));
        replayTexts.push(text);
        sent += 1;
      }
      const replayed: SeenMessage[] = [];
      const rounds: string[] = [];
      for (let round = 0, count = rng.int(4, 7); round < count; round++) {
        const last = replayed.at(-1)?.id ?? 0;
        if (last >= backlog) break;
        if (round > 0 && rng.chance(0.35)) {
          const stream = await StalledStream.open(hostile.port, agents[4].token, { lastEventId: last });
          if (stream.status !== 200) finding(`replay round ${round}`, `answered ${stream.status}`);
          stream.destroy();
          rounds.push(`${last}→stalled`);
          continue;
        }
        const stream = await openChecked(`replay round ${round} after ${last}`, agents[4].token, streamOk, {
          lastEventId: round === 0 && rng.chance(0.5) ? undefined : last,
          query: rng.chance(0.3),
        });
        if (stream?.status !== 200) continue;
        const stopAt = Math.min(backlog, last + rng.int(1, 9));
        // Dropped as soon as the event arrived (not on a poll: by then the whole replay may be in).
        await Promise.race([
          stream.waitFor((e) => e.event === 'message' && Number(e.id) >= stopAt, 5000),
          stream.waitForEnd(5000),
        ]).catch(() => undefined);
        stream.close();
        const seen = seenOf(stream.events);
        rounds.push(`${last}→${seen.at(-1)?.id ?? last}`);
        replayed.push(...seen);
      }
      resumes += await resumeAll(agents[4].token, replayed, backlog, 'after the dropped replays');
      const replayProblem = sequenceProblem(replayed, replayTexts);
      if (replayProblem) finding('dropped replays', replayProblem);
      await closeAll('dropped replays');

      // 5. Afterwards: alive and ready, no stream, slot or subscription left behind.
      for (const [endpoint, path] of [
        [EP.health, '/health'],
        [EP.ready, '/health/ready'],
      ]) {
        const res = await send(hostile.port, { method: 'GET', path });
        recorder.check({
          phase,
          endpoint,
          label: 'after the hostile clients',
          res,
          expect: { allowed: [200] },
        });
      }
      await eventually(() => pubsub.subscribedChannelCount === baselineChannels);
      console.log(
        `stream-limits: ${refused} refusals, ${replacedFull} replacements from a full address, ` +
          `${slowConsumers} slow consumers closed, ${resumes} resumes, ${sent} messages; dropped replays ${rounds.join(' ')}`,
      );
      await expectPhase(phase, before, { inbound_messages: sent }, 30, {
        slowConsumersClosed: [slowClosed ? slowConsumers : `still open: ${hub.size}`, stalled.length],
        refusedSome: [refused > 0, true],
        openStreams: [hub.size, 0],
        slotEntries: [await slotEntries(hostile), 0],
        subscribedChannels: [pubsub.subscribedChannelCount, baselineChannels],
      });
    } finally {
      for (const c of clients) {
        if (c instanceof SseClient) c.close();
        else c.destroy();
      }
    }
  }, 60_000);

  it('afterwards: the relay is alive and ready, and the barrage reached the floor of this file', () =>
    fuzz.expectAliveAfterBarrage());
});
