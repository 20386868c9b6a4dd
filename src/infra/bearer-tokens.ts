import { createHash, timingSafeEqual } from 'node:crypto';

const TOKEN = /^[\x21-\x7e]+$/;
const AUTHORIZATION = /^Bearer +([\x21-\x7e]+) *$/i;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Checks an `Authorization: Bearer <token>` header against every accepted token. Both sides are
 * hashed first, so the comparison is always between 32-byte digests: neither the result nor the
 * time taken depends on the length of the accepted tokens, and every token is compared (no early
 * exit) so the time does not say which one matched.
 */
export function bearerTokenChecker(tokens: readonly string[]): (authorization: string | undefined) => 'ok' | 'missing' | 'invalid' {
  if (tokens.length === 0) throw new Error('the check needs at least one bearer token');
  for (const token of tokens) {
    if (!TOKEN.test(token)) throw new Error('bearer tokens must be non-empty visible ASCII without spaces');
  }
  const digests = tokens.map(sha256);
  return (authorization) => {
    if (authorization === undefined || authorization.trim() === '') return 'missing';
    const presented = AUTHORIZATION.exec(authorization)?.[1];
    if (presented === undefined) return 'invalid';
    const candidate = sha256(presented);
    let accepted = false;
    for (const digest of digests) accepted = timingSafeEqual(digest, candidate) || accepted;
    return accepted ? 'ok' : 'invalid';
  };
}
