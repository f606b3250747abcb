import { createHash, randomBytes } from 'node:crypto';

const KEY_PREFIX = 'tsk_';

/** A new random API key: 32 bytes of entropy, URL-safe. */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Keys are random 256-bit secrets, so a fast hash is enough: there is nothing
 * to brute-force that a slow password hash (bcrypt) would protect, and it keeps
 * authentication off the hot path's critical cost.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The part of a key shown to operators to tell keys apart. */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}
