import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { RelayError, ServiceUnavailableError } from '../errors';

/** The variable that holds the key of the secrets stored at rest (Works bot secrets, private keys). */
export const SECRETS_KEY_VARIABLE = 'RELAY_SECRETS_KEY';

/** A passphrase shorter than this is refused: it would be the weakest link of the encryption. */
export const MIN_SECRETS_PASSPHRASE_LENGTH = 32;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HKDF_SALT = 'kakao-relay/secret-box';
const HKDF_INFO = 'v1 aes-256-gcm';

/**
 * `RELAY_SECRETS_KEY` as the 32-byte AES key: 64 hex characters, or base64/base64url of exactly 32 bytes,
 * are the key itself; anything else of at least 32 characters is a passphrase, stretched with HKDF-SHA256
 * (fixed salt and info). Throws with a message naming the variable (never its value) when it is neither.
 */
export function parseSecretsKey(value: string): Buffer {
  const text = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  if (text.length >= MIN_SECRETS_PASSPHRASE_LENGTH) {
    return Buffer.from(hkdfSync('sha256', text, HKDF_SALT, HKDF_INFO, KEY_BYTES));
  }
  throw new Error(
    `${SECRETS_KEY_VARIABLE} must be 32 bytes as 64 hex characters or base64, ` +
      `or a passphrase of at least ${MIN_SECRETS_PASSPHRASE_LENGTH} characters`,
  );
}

/** A secret is about to be stored but the relay has no key to encrypt it with. */
export class SecretsKeyMissingError extends ServiceUnavailableError {
  constructor() {
    super(
      'SECRETS_KEY_MISSING',
      `Storing a secret needs ${SECRETS_KEY_VARIABLE} (32 bytes as hex or base64, or a passphrase of at least ` +
        `${MIN_SECRETS_PASSPHRASE_LENGTH} characters); the operator must set it and restart the relay.`,
    );
  }
}

/** A stored secret cannot be opened: another key (`RELAY_SECRETS_KEY` changed) or altered ciphertext. */
export class SecretUnreadableError extends RelayError {
  constructor() {
    super(
      500,
      'SECRET_UNREADABLE',
      `A stored secret cannot be decrypted with the current ${SECRETS_KEY_VARIABLE}.`,
    );
  }
}

/**
 * Secrets at rest: AES-256-GCM with a random 12-byte IV per value, written as
 * `v1:<iv>:<tag>:<ciphertext>` (base64url). The tag authenticates the value, so an altered value or the wrong
 * key is refused (`SecretUnreadableError`) instead of answering garbage. Without a key (`RELAY_SECRETS_KEY`
 * unset) the box can neither seal nor open: `SecretsKeyMissingError` (503), named so the operator knows what
 * to set.
 */
export class SecretBox {
  private readonly key: Buffer | null;

  constructor(key: Buffer | null) {
    if (key && key.length !== KEY_BYTES) throw new Error(`a SecretBox key is ${KEY_BYTES} bytes`);
    this.key = key;
  }

  /** The box of the configured key (`undefined`: no key, nothing can be stored). */
  static fromSetting(value: string | undefined): SecretBox {
    return new SecretBox(value === undefined ? null : parseSecretsKey(value));
  }

  get hasKey(): boolean {
    return this.key !== null;
  }

  seal(plaintext: string): string {
    const key = this.requireKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, ciphertext]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join(':');
  }

  open(sealed: string): string {
    const key = this.requireKey();
    const parts = sealed.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretUnreadableError();
    const [iv, tag, ciphertext] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretUnreadableError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnreadableError();
    }
  }

  private requireKey(): Buffer {
    if (!this.key) throw new SecretsKeyMissingError();
    return this.key;
  }
}
