import { generateKeyPairSync } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateWorksBotDto, UpdateWorksBotDto } from './works-bot.dto';

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const valid = {
  botId: '2000001',
  name: 'Support bot',
  botSecret: 'bot-secret',
  clientId: 'client-id',
  clientSecret: 'client-secret',
  serviceAccount: 'svc.serviceaccount@example.com',
  privateKey: rsaPem,
};

const fields = (found: Array<[string, string]>) => [...new Set(found.map(([p]) => p))];

async function problems<T extends object>(cls: new () => T, body: object): Promise<Array<[string, string]>> {
  const errors = await validate(plainToInstance(cls, body), { whitelist: true, forbidNonWhitelisted: true });
  return errors.flatMap((e) =>
    Object.values(e.constraints ?? {}).map((m): [string, string] => [e.property, m]),
  );
}

describe('CreateWorksBotDto', () => {
  it('accepts a complete bot, name optional', async () => {
    expect(await problems(CreateWorksBotDto, valid)).toEqual([]);
    const { name: _name, ...unnamed } = valid;
    expect(await problems(CreateWorksBotDto, unnamed)).toEqual([]);
  });

  it.each(['botId', 'botSecret', 'clientId', 'clientSecret', 'serviceAccount', 'privateKey'])(
    'names the missing field %s',
    async (field) => {
      const body: Record<string, unknown> = { ...valid };
      delete body[field];
      const found = await problems(CreateWorksBotDto, body);
      expect(found.length).toBeGreaterThan(0);
      expect(found.every(([property]) => property === field)).toBe(true);
    },
  );

  it('refuses a bad PEM and a non-RSA key, naming privateKey and never quoting the key', async () => {
    const bad = await problems(CreateWorksBotDto, { ...valid, privateKey: 'not a key' });
    expect(bad).toEqual([['privateKey', expect.stringMatching(/^privateKey must be a PEM private key/)]]);
    const ec = await problems(CreateWorksBotDto, { ...valid, privateKey: ecPem });
    expect(ec).toEqual([['privateKey', 'privateKey must be an RSA key (RS256), not ec']]);
    const publicKey = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const pub = await problems(CreateWorksBotDto, { ...valid, privateKey: publicKey });
    expect(fields(pub)).toEqual(['privateKey']);
  });

  it('refuses a bot id that is not a plain token', async () => {
    expect(fields(await problems(CreateWorksBotDto, { ...valid, botId: '../x y' }))).toEqual(['botId']);
  });
});

describe('UpdateWorksBotDto', () => {
  it('accepts any subset of the fields, and null only for name', async () => {
    expect(await problems(UpdateWorksBotDto, {})).toEqual([]);
    expect(await problems(UpdateWorksBotDto, { name: null, enabled: false })).toEqual([]);
    expect(await problems(UpdateWorksBotDto, { privateKey: rsaPem, botSecret: 'new' })).toEqual([]);
    expect(fields(await problems(UpdateWorksBotDto, { clientId: null }))).toEqual(['clientId']);
    expect(fields(await problems(UpdateWorksBotDto, { botSecret: '' }))).toEqual(['botSecret']);
    expect(fields(await problems(UpdateWorksBotDto, { privateKey: ecPem }))).toEqual(['privateKey']);
  });

  it('does not take a bot id: it names the bot in the path', async () => {
    expect(fields(await problems(UpdateWorksBotDto, { botId: '2' }))).toEqual(['botId']);
  });
});
