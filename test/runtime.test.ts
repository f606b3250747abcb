import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createRuntime } from '../src/runtime.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const databases: TestDatabase[] = [];
async function emptyDatabase() {
  const db = await createTestDatabase({ migrated: false });
  databases.push(db);
  return db.url;
}
afterAll(() => Promise.all(databases.map((d) => d.drop())));

const graphiqlPage = async (runtime: Awaited<ReturnType<typeof createRuntime>>) =>
  (await runtime.app.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } })).text();

describe('start-up', () => {
  it('in development seeds the demo account once and prefills its key in GraphiQL', async () => {
    const config = loadConfig({ NODE_ENV: 'development', DATABASE_URL: await emptyDatabase() });
    const first = await createRuntime(config, createLogger('silent'));
    expect(first.demo?.apiKey).toMatch(/^tsk_/);
    expect(await graphiqlPage(first)).toContain(first.demo!.apiKey);
    await first.close();
    // A restart on the same database creates nothing and shows no key.
    const second = await createRuntime(config, createLogger('silent'));
    expect(second.demo).toBeNull();
    expect(await graphiqlPage(second)).not.toMatch(/tsk_/);
    await second.close();
  });

  it('in production creates no demo account and never puts a key in GraphiQL', async () => {
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: await emptyDatabase() });
    const runtime = await createRuntime(config, createLogger('silent'));
    try {
      expect(runtime.demo).toBeNull();
      expect(await runtime.deps.db.read.account.count()).toBe(0);
      const html = await graphiqlPage(runtime);
      expect(html).toContain('your API key');
      expect(html).not.toMatch(/tsk_/);
    } finally {
      await runtime.close();
    }
  });
});

describe('configuration', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      env: 'development',
      databaseUrl: 'file:./data/app.db',
      port: 4000,
      limits: { accountMax: 60, scheduleMax: 10, windowSeconds: 60 },
    });
  });

  it('refuses a half-valid configuration, naming every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', RATE_LIMIT_ACCOUNT_MAX: '0', DATABASE_URL: 'mysql://x' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ PORT: 'eighty', RATE_LIMIT_ACCOUNT_MAX: '0', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      const message = (e as Error).message;
      expect(message).toContain('PORT="eighty"');
      expect(message).toContain('RATE_LIMIT_ACCOUNT_MAX="0"');
      expect(message).toContain('DATABASE_URL="mysql://x"');
    }
  });
});
