import { parseCommand } from './relay-commands';

describe('parseCommand', () => {
  it.each([
    ['/pair ABCD-2345', 'ABCD2345'],
    ['/PAIR abcd2345', 'ABCD2345'],
    ['  /Pair   abcd-2345  ', 'ABCD2345'],
  ])('reads %p as a pairing attempt', (utterance, code) => {
    expect(parseCommand(utterance)).toEqual({ name: 'pair', code, raw: expect.any(String) });
  });

  it('keeps a malformed code as null so the user gets "invalid code"', () => {
    expect(parseCommand('/pair 1234')).toEqual({ name: 'pair', code: null, raw: '1234' });
    expect(parseCommand('/pair')).toEqual({ name: 'pair', code: null, raw: '' });
  });

  it.each([
    ['/unpair', 'unpair'],
    ['/UNPAIR', 'unpair'],
    [' /status ', 'status'],
    ['/help', 'help'],
    ['/Help', 'help'],
  ])('reads %p', (utterance, name) => {
    expect(parseCommand(utterance)?.name).toBe(name);
  });

  it.each(['hello', '/weather seoul', 'pair ABCD-2345', '/pairing x', '', '/', '// help'])(
    'leaves %p to the agent',
    (utterance) => {
      expect(parseCommand(utterance)).toBeNull();
    },
  );
});
