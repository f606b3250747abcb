// The hot reads (authentication, task lookups) must answer exactly what
// Prisma's typed queries answer, field for field, on every provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prismaHotReads } from '../src/db/client.js';
import { revokeApiKey } from '../src/services/accounts.js';
import { hashApiKey } from '../src/services/api-keys.js';
import { createHarness, type Harness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('hot reads', () => {
  it('find the same account as Prisma for a key, and none once it is revoked', async () => {
    const { key } = await h.account({
      name: 'hot',
      plan: 'GROWTH',
      billing: 'UNPAID',
      quotaLimit: 77,
      quotaUsed: 5,
      quotaResetAt: new Date(Date.UTC(2027, 0, 1, 12, 30, 15, 123)),
    });
    const reference = prismaHotReads(h.db.read);
    const hash = hashApiKey(key);
    const fast = await h.db.hot.accountByKeyHash(hash);
    expect(fast).toEqual(await reference.accountByKeyHash(hash));
    expect(fast).toMatchObject({ name: 'hot', plan: 'GROWTH', billing: 'UNPAID', quotaLimit: 77, quotaUsed: 5 });
    expect(fast!.quotaResetAt).toBeInstanceOf(Date);
    await h.db.transaction((tx) => revokeApiKey(tx, key, Date.now()));
    expect(await h.db.hot.accountByKeyHash(hash)).toBeNull();
    expect(await h.db.hot.accountByKeyHash(hashApiKey('nope'))).toBeNull();
  });

  it("find the same tasks as Prisma, every field and type, and never another account's", async () => {
    const { id } = await h.account();
    const other = await h.account();
    const ids = await h.tasks(id, [
      { status: 'ACTIVE' },
      { status: 'CREATE_PENDING', inProgress: true, api: 'PDF', version: 7 },
      { status: 'NON_EXISTING', createdAt: new Date(Date.UTC(2025, 1, 2, 3, 4, 5, 6)) },
    ]);
    await h.db.transaction((tx) =>
      tx.task.update({
        where: { id: ids[0]! },
        data: { lastRunAt: new Date(Date.UTC(2026, 5, 1, 0, 0, 0, 1)), runs: 42 },
      }),
    );
    const foreign = await h.task(other.id);
    const wanted = [...ids, foreign, 'missing'];
    const byId = (rows: { id: string }[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    const fast = byId(await h.db.hot.tasksByIds(id, wanted));
    expect(fast).toEqual(byId(await prismaHotReads(h.db.read).tasksByIds(id, wanted)));
    expect(fast.map((t) => t.id).sort()).toEqual([...ids].sort());
    expect(fast.find((t) => t.id === ids[0])).toMatchObject({
      runs: 42,
      lastRunAt: new Date(Date.UTC(2026, 5, 1, 0, 0, 0, 1)),
    });
    expect(fast.find((t) => t.id === ids[1])).toMatchObject({
      inProgress: true,
      api: 'PDF',
      version: 7,
      nextRunAt: null,
    });
    expect((fast as { id: string; nextRunAt: Date | null }[]).find((t) => t.id === ids[0])?.nextRunAt).toEqual(
      new Date('2026-06-16T00:00:00.000Z'),
    );
  });

  it('page like Prisma for every filter and cursor, ties on createdAt included', async () => {
    const { id } = await h.account();
    const same = new Date(Date.UTC(2026, 2, 3, 4, 5, 6, 789));
    await h.tasks(
      id,
      Array.from({ length: 12 }, (_, i) => ({
        id: `pg-${String(i).padStart(2, '0')}`,
        createdAt: i % 3 === 0 ? same : new Date(Date.UTC(2026, 2, 1, 0, 0, i)),
        status: (['ACTIVE', 'PAUSED', 'ERROR'] as const)[i % 3],
        api: (['PDF', 'SCRAPE'] as const)[i % 2],
      })),
    );
    const reference = prismaHotReads(h.db.read);
    const cases = [
      {},
      { status: 'ACTIVE' as const },
      { api: 'PDF' as const, enabled: true },
      { enabled: false },
      { enabled: true, status: 'PAUSED' as const },
      { enabled: false, status: 'ERROR' as const },
      { after: { createdAt: same, id: 'pg-06' } },
      { after: { createdAt: new Date(Date.UTC(2026, 2, 1, 0, 0, 5)), id: 'pg-05' }, status: 'PAUSED' as const },
    ];
    for (const c of cases) {
      for (const take of [1, 5, 50]) {
        const q = { accountId: id, take, ...c };
        expect(await h.db.hot.taskPage(q), JSON.stringify(q)).toEqual(await reference.taskPage(q));
      }
    }
  });
});
