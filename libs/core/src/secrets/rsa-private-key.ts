import { createPrivateKey } from 'node:crypto';

/** The largest PEM the relay accepts (an RSA 8192-bit key is about 6.4 KiB). */
export const MAX_PRIVATE_KEY_PEM_LENGTH = 16384;

/**
 * Why `pem` is not an unencrypted RSA private key in PEM form (what signs a Works service-account JWT, RS256),
 * or null when it is one. The reason never quotes the key.
 */
export function rsaPrivateKeyProblem(pem: string): string | null {
  if (!/-----BEGIN (?:RSA |ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
    return 'must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)';
  }
  if (pem.includes('ENCRYPTED')) return 'must not be encrypted with a passphrase';
  let type: string | undefined;
  try {
    type = createPrivateKey({ key: pem, format: 'pem' }).asymmetricKeyType;
  } catch {
    return 'is not a readable PEM private key';
  }
  if (type !== 'rsa') return `must be an RSA key (RS256), not ${type ?? 'an unknown type'}`;
  return null;
}
