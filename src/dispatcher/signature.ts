// X-Signature of every executor request, in the style of Stripe's webhook
// signatures: `t=<unix seconds>,v1=<hex HMAC-SHA256>` over
// "<t>.<method>.<path and query>.<run id>". The executor recomputes it with the
// shared secret, compares in constant time and refuses old timestamps, so a
// captured request cannot be replayed later nor changed on the way.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signed string: what an executor recomputes from the request it received. */
export function signedPayload(t: number, method: string, pathAndQuery: string, runId: string): string {
  return `${t}.${method}.${pathAndQuery}.${runId}`;
}

export function signature(secret: string, t: number, method: string, pathAndQuery: string, runId: string): string {
  const mac = createHmac('sha256', secret)
    .update(signedPayload(t, method, pathAndQuery, runId))
    .digest('hex');
  return `t=${t},v1=${mac}`;
}

/**
 * Whether `header` signs this request with `secret`, made at most
 * `toleranceSeconds` from `nowSeconds`. What an executor written in Node does
 * (the README shows the same in a few lines).
 */
export function verifySignature(
  header: string | undefined,
  secret: string,
  request: { method: string; pathAndQuery: string; runId: string },
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !parts.v1) return false;
  const expected = Buffer.from(signature(secret, t, request.method, request.pathAndQuery, request.runId).slice(-64));
  const given = Buffer.from(parts.v1);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
