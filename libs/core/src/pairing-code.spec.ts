import {
  formatPairingCode,
  generatePairingCode,
  normalizePairingCode,
  PAIRING_CODE_ALPHABET,
} from './pairing-code';

describe('pairing codes', () => {
  it('generates 8 characters from the alphabet', () => {
    for (let i = 0; i < 200; i++) {
      const code = generatePairingCode();
      expect(code).toHaveLength(8);
      for (const ch of code) expect(PAIRING_CODE_ALPHABET).toContain(ch);
    }
  });

  it('formats as XXXX-XXXX', () => {
    expect(formatPairingCode('ABCD2345')).toBe('ABCD-2345');
  });

  it.each([
    ['ABCD-2345', 'ABCD2345'],
    ['abcd-2345', 'ABCD2345'],
    ['abcd2345', 'ABCD2345'],
    ['  AbCd-2345 ', 'ABCD2345'],
  ])('normalizes %p', (input, expected) => {
    expect(normalizePairingCode(input)).toBe(expected);
  });

  it.each(['', 'ABCD-234', 'ABCD-23456', 'ABCD-2340', 'ABCD-I345', 'ABCD 2345', '한글코드입니다요'])(
    'rejects %p',
    (input) => {
      expect(normalizePairingCode(input)).toBeNull();
    },
  );
});
