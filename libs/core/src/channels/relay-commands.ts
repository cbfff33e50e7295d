import { normalizePairingCode } from '../pairing-code';

export type RelayCommand =
  | { name: 'pair'; code: string | null; raw: string }
  | { name: 'unpair' }
  | { name: 'status' }
  | { name: 'help' };

/**
 * Recognises the relay's own commands in the text of a message, on every channel (the adapter extracts the text:
 * Kakao's `userRequest.utterance`, a Works text message's `content.text`) (trimmed; command word case-insensitive). Anything else
 * — including other slash words — is not a relay command and goes to the agent (or gets the pairing hint).
 */
export function parseCommand(text: string): RelayCommand | null {
  const match = /^\/([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return null;
  const word = match[1].toLowerCase();
  const rest = (match[2] ?? '').trim();
  switch (word) {
    case 'pair':
      return { name: 'pair', code: rest ? normalizePairingCode(rest) : null, raw: rest };
    case 'unpair':
      return { name: 'unpair' };
    case 'status':
      return { name: 'status' };
    case 'help':
      return { name: 'help' };
    default:
      return null;
  }
}
