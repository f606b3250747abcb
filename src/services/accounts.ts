// Accounts and their API keys, for operators (the admin CLI) and the demo seed.
import type { Tx } from '../db/client.js';
import type { Billing, Plan } from '../db/models.js';
import { generateApiKey, hashApiKey, keyPrefix } from './api-keys.js';
import { newId } from './ids.js';
import { nextPeriodEnd } from './quota.js';

export interface NewAccount {
  name: string;
  plan: Plan;
  billing?: Billing;
  quotaLimit: number;
  quotaUsed?: number;
  /** End of the first quota period; by default a month from now. Null: never resets. */
  quotaResetAt?: Date | null;
}

/** The end of the monthly period that contains `now`, anchored at the 1st (UTC). */
export function defaultQuotaResetAt(now: number): Date {
  const d = new Date(now);
  return nextPeriodEnd(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)), now);
}

export async function insertAccount(tx: Tx, input: NewAccount, now: number): Promise<string> {
  const id = newId();
  await tx.account.create({
    data: {
      id,
      name: input.name,
      plan: input.plan,
      billing: input.billing ?? 'OK',
      quotaLimit: input.quotaLimit,
      quotaUsed: input.quotaUsed ?? 0,
      quotaResetAt: input.quotaResetAt === undefined ? defaultQuotaResetAt(now) : input.quotaResetAt,
    },
  });
  return id;
}

/** Stores a key for the account (hashed) and returns the plain key. */
export async function insertApiKey(tx: Tx, accountId: string, plainKey: string = generateApiKey()): Promise<string> {
  await tx.apiKey.create({
    data: { id: newId(), accountId, keyHash: hashApiKey(plainKey), prefix: keyPrefix(plainKey) },
  });
  return plainKey;
}

/** Revokes a key by its plain value; true when a live key was revoked. */
export async function revokeApiKey(tx: Tx, plainKey: string, now: number): Promise<boolean> {
  const { count } = await tx.apiKey.updateMany({
    where: { keyHash: hashApiKey(plainKey), revokedAt: null },
    data: { revokedAt: new Date(now) },
  });
  return count === 1;
}
