import { createVerify, generateKeyPairSync } from 'node:crypto';
import { signWorksJwt, worksJwtClaims } from './works-jwt';

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

function decode(part: string): unknown {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

describe('signWorksJwt', () => {
  const claims = worksJwtClaims('client-1', 'svc@example.works', Date.UTC(2026, 0, 1, 12, 0, 0, 999));

  it('writes the RS256 header and the service-account claims, an hour at most', () => {
    const [header, body] = signWorksJwt(claims, privateKey).split('.');
    expect(decode(header)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const iat = Date.UTC(2026, 0, 1, 12) / 1000;
    expect(decode(body)).toEqual({ iss: 'client-1', sub: 'svc@example.works', iat, exp: iat + 3600 });
    expect(worksJwtClaims('c', 's', 0, 7200).exp).toBe(3600);
  });

  it('is verified by node:crypto with the public key, and a changed claim is not', () => {
    const jwt = signWorksJwt(claims, privateKey);
    const [header, body, signature] = jwt.split('.');
    expect(jwt).not.toMatch(/[=+/]/);
    const verify = (input: string) =>
      createVerify('RSA-SHA256').update(input).verify(publicKey, Buffer.from(signature, 'base64url'));
    expect(verify(`${header}.${body}`)).toBe(true);
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'other' })).toString('base64url');
    expect(verify(`${header}.${forged}`)).toBe(false);
  });
});
