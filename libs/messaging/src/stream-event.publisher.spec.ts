import { AccountEventTaps } from './account-event-taps';
import type { ChannelEnvelope } from './channels';
import type { PubSubService } from './pubsub.service';
import { StreamEventPublisher } from './stream-event.publisher';

function setup(publish: () => Promise<number> = async () => 1) {
  const taps = new AccountEventTaps();
  const heard: Array<[string, ChannelEnvelope]> = [];
  taps.register((accountId, envelope) => heard.push([accountId, envelope]));
  const published: string[] = [];
  const pubsub = {
    channel: (...parts: string[]) => parts.join(':'),
    publish: (channel: string) => {
      published.push(channel);
      return publish();
    },
  } as unknown as PubSubService;
  return { publisher: new StreamEventPublisher(pubsub, taps), heard, published };
}

const error: ChannelEnvelope = { kind: 'error', data: { code: 'X', message: 'x' } };

describe('StreamEventPublisher (account events and their taps)', () => {
  it("tells the account's taps of each event, also when Redis refuses the publish", async () => {
    const { publisher, heard, published } = setup(async () => {
      throw new Error('redis away');
    });
    await expect(publisher.toAccount('acct', error)).rejects.toThrow('redis away');
    expect(heard).toEqual([['acct', error]]);
    expect(published).toHaveLength(1);
  });

  it('does not tell them again for the queued retry of that publish (taps: false)', async () => {
    const { publisher, heard, published } = setup();
    await publisher.toAccount('acct', error, { taps: false });
    expect(heard).toEqual([]);
    expect(published).toHaveLength(1);
  });
});
