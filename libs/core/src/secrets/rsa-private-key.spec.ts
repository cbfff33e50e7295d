import { generateKeyPairSync } from 'node:crypto';
import { rsaPrivateKeyProblem } from './rsa-private-key';

describe('rsaPrivateKeyProblem', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('accepts an RSA private key as PKCS#8 or PKCS#1 PEM', () => {
    expect(
      rsaPrivateKeyProblem(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    ).toBeNull();
    expect(
      rsaPrivateKeyProblem(rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
    ).toBeNull();
  });

  it('refuses what is not a PEM private key', () => {
    expect(rsaPrivateKeyProblem('hello')).toMatch(/PEM private key/);
    expect(rsaPrivateKeyProblem(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString())).toMatch(
      /PEM private key/,
    );
    expect(
      rsaPrivateKeyProblem('-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n'),
    ).toMatch(/not a readable/);
  });

  it('refuses an encrypted key', () => {
    const pem = rsa.privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass' })
      .toString();
    expect(rsaPrivateKeyProblem(pem)).toMatch(/encrypted/);
  });

  it('refuses an EC or Ed25519 key: RS256 needs RSA', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    expect(rsaPrivateKeyProblem(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toBe(
      'must be an RSA key (RS256), not ec',
    );
    expect(rsaPrivateKeyProblem(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toMatch(
      /not ed25519/,
    );
  });
});
