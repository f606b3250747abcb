// Accounts and their API keys, for operators (the admin CLI) and the demo seed.
import type { Db, Tx } from '../db/client.js';
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

/** An account as operators see it: never a key nor a key's hash. */
export interface AccountSummary {
  id: string;
  name: string;
  plan: Plan;
  billing: Billing;
  quota: { limit: number; used: number; resetAt: Date | null };
  tasks: number;
  createdAt: Date;
  apiKeys: { prefix: string; createdAt: Date; revokedAt: Date | null }[];
}

/** Every account, oldest first, with its keys' prefixes and its task count. */
export async function listAccounts(db: Db): Promise<AccountSummary[]> {
  const accounts = await db.account.findMany({
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    include: {
      // Selected field by field so a hash can never slip into the output.
      apiKeys: { select: { prefix: true, createdAt: true, revokedAt: true }, orderBy: { createdAt: 'asc' } },
      _count: { select: { tasks: true } },
    },
  });
  return accounts.map((a) => ({
    id: a.id,
    name: a.name,
    plan: a.plan,
    billing: a.billing,
    quota: { limit: a.quotaLimit, used: a.quotaUsed, resetAt: a.quotaResetAt },
    tasks: a._count.tasks,
    createdAt: a.createdAt,
    apiKeys: a.apiKeys,
  }));
}

export type AccountLookup =
  | { status: 'found'; id: string; name: string }
  | { status: 'none' }
  | { status: 'ambiguous'; ids: string[] };

/**
 * The account an operator means by `ref`: the one with that id, else the only
 * one with that name. Names are not unique, so several matches are an answer
 * too: the caller must ask for an id.
 */
export async function findAccountByIdOrName(db: Db, ref: string): Promise<AccountLookup> {
  const byId = await db.account.findUnique({ where: { id: ref }, select: { id: true, name: true } });
  if (byId) return { status: 'found', ...byId };
  const byName = await db.account.findMany({
    where: { name: ref },
    select: { id: true, name: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  if (byName.length === 1) return { status: 'found', ...byName[0]! };
  if (byName.length === 0) return { status: 'none' };
  return { status: 'ambiguous', ids: byName.map((a) => a.id) };
}
