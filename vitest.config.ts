// Three projects: the whole suite on SQLite; the whole suite again on
// PostgreSQL; and the Redis suites (shared rate limits, two instances), which
// need PostgreSQL and Redis. A machine without those servers runs the SQLite
// project and says loudly what it skipped; with REQUIRE_SERVICES=1 (CI) a
// missing server fails the run instead.
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const REDIS_SUITES = ['test/**/*.redis.test.ts'];
const SQLITE_ONLY = ['test/**/*.browser.test.ts', 'test/schema.test.ts'];

export default defineConfig(async () => {
  const [postgres, redis] = await Promise.all([reachable(POSTGRES_URL), reachable(REDIS_URL)]);
  const missing = [!postgres && `PostgreSQL (${POSTGRES_URL})`, !redis && `Redis (${REDIS_URL})`].filter(Boolean);
  if (missing.length > 0) {
    const what = `${missing.join(' and ')} not reachable`;
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1 but ${what}.`);
    const skipped = postgres ? 'the Redis suites' : 'the PostgreSQL and Redis suites';
    console.warn(
      `\n${'!'.repeat(78)}\n!! ${what}: ${skipped} will NOT run.\n!! Only SQLite and the in-memory rate limiter are tested. Set REQUIRE_SERVICES=1 to make them mandatory.\n${'!'.repeat(78)}\n`,
    );
  }
  const env = { TEST_POSTGRES_URL: POSTGRES_URL, TEST_REDIS_URL: REDIS_URL };
  const project = (
    name: string,
    database: string,
    include: string[],
    exclude: string[],
  ): TestProjectInlineConfiguration => ({
    extends: true,
    test: { name, include, exclude, env: { ...env, TEST_DATABASE: database } },
  });
  const projects = [project('sqlite', 'sqlite', ['test/**/*.test.ts'], REDIS_SUITES)];
  if (postgres)
    projects.push(project('postgresql', 'postgresql', ['test/**/*.test.ts'], [...REDIS_SUITES, ...SQLITE_ONLY]));
  if (postgres && redis) projects.push(project('redis', 'postgresql', REDIS_SUITES, []));
  return {
    resolve: {
      // graphql 16 ships CJS (main) and ESM (module) side by side. Node loads
      // the CJS one for our dependencies (Pothos, yoga); Vite would pick the
      // ESM one for test files, and the two copies reject each other's types.
      alias: { graphql: createRequire(import.meta.url).resolve('graphql') },
    },
    test: {
      testTimeout: 30_000,
      hookTimeout: 60_000,
      // Each file has its own database; files run in parallel workers.
      pool: 'forks' as const,
      projects,
    },
  };
});
