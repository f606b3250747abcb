// Three projects: the whole suite on SQLite; the whole suite again on
// PostgreSQL; and the Redis suites (shared rate limits, two instances), which
// need PostgreSQL and Redis. Suites that drive an outside program (Chromium
// for the GraphiQL test) need it installed. A machine without those servers
// or programs runs the rest and says loudly what it skipped; with
// REQUIRE_SERVICES=1 (CI) anything missing fails the run instead.
import { accessSync, constants } from 'node:fs';
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

/** Outside programs some suites drive, and how to get them. */
const PROGRAMS = [
  {
    name: 'Chromium',
    path: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    suites: ['test/**/*.browser.test.ts'],
    install: 'apt-get install chromium (or set CHROMIUM_PATH)',
  },
];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const REDIS_SUITES = ['test/**/*.redis.test.ts'];
const SQLITE_ONLY = [
  'test/**/*.browser.test.ts',
  'test/schema.test.ts',
  'test/suite-setup.test.ts',
  // They open SQLite files of their own whichever database the project tests.
  'test/sqlite-lock.test.ts',
  'test/sqlite-file.test.ts',
];

export default defineConfig(async () => {
  const [postgres, redis] = await Promise.all([reachable(POSTGRES_URL), reachable(REDIS_URL)]);
  const required = process.env.REQUIRE_SERVICES === '1';
  const notices: string[] = [];
  const missing = [!postgres && `PostgreSQL (${POSTGRES_URL})`, !redis && `Redis (${REDIS_URL})`].filter(Boolean);
  if (missing.length > 0) {
    const what = `${missing.join(' and ')} not reachable`;
    if (required) throw new Error(`REQUIRE_SERVICES=1 but ${what}.`);
    const skipped = postgres ? 'the Redis suites' : 'the PostgreSQL and Redis suites';
    notices.push(`${what}: ${skipped} will NOT run (only SQLite and the in-memory rate limiter are tested).`);
  }
  const absent = PROGRAMS.filter((p) => !executable(p.path));
  for (const p of absent) {
    if (required) throw new Error(`REQUIRE_SERVICES=1 but ${p.name} is not at ${p.path}: ${p.install}.`);
    notices.push(`${p.name} not at ${p.path}: ${p.suites.join(', ')} will NOT run. Install: ${p.install}.`);
  }
  const withoutPrograms = absent.flatMap((p) => p.suites);
  // The config is evaluated once per project: say it once.
  if (notices.length > 0 && !process.env.TEST_NOTICE_SHOWN) {
    process.env.TEST_NOTICE_SHOWN = '1';
    const bar = '!'.repeat(78);
    console.warn(
      `\n${bar}\n${notices.map((n) => `!! ${n}`).join('\n')}\n!! Set REQUIRE_SERVICES=1 to make them mandatory (CI does).\n${bar}\n`,
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
  const projects = [project('sqlite', 'sqlite', ['test/**/*.test.ts'], [...REDIS_SUITES, ...withoutPrograms])];
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
