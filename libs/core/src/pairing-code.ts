import { randomInt } from 'node:crypto';

/** Alphabet without look-alikes (no I, O, 0, 1). */
export const PAIRING_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const PAIRING_CODE_LENGTH = 8;

/** A fresh code in its stored form: 8 characters, no hyphen. */
export function generatePairingCode(): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) {
    code += PAIRING_CODE_ALPHABET[randomInt(PAIRING_CODE_ALPHABET.length)];
  }
  return code;
}

/** `ABCD2345` → `ABCD-2345`. */
export function formatPairingCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What a user typed after `/pair` → the stored form, or null when it cannot be a code.
 * Case-insensitive, hyphen optional, surrounding spaces ignored.
 */
export function normalizePairingCode(input: string): string | null {
  const compact = input.trim().toUpperCase().replace(/-/g, '');
  if (compact.length !== PAIRING_CODE_LENGTH) return null;
  for (const ch of compact) {
    if (!PAIRING_CODE_ALPHABET.includes(ch)) return null;
  }
  return compact;
}
