// Three projects: the whole suite on SQLite; the whole suite again on
// PostgreSQL; and the Redis suites (shared rate limits, two instances), which
// need PostgreSQL and Redis. Suites that drive an outside program (Chromium
// for the GraphiQL test; PHP, Python and curl running the REST APIs' own
// client code) need it installed. A machine without those servers or
// programs runs the rest and says loudly what it skipped; with
// REQUIRE_SERVICES=1 (CI) anything missing fails the run instead.
import { spawnSync } from 'node:child_process';
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

interface Program {
  name: string;
  /** The environment variable that overrides `path`; the suites read the path from it. */
  variable: string;
  path: string;
  /** What the program must have besides being there, and how to tell (exit 0 when it has it). */
  needs?: { what: string; args: string[] };
  suites: string[];
  install: string;
}

/** `path` is the default: the variable, when set, names the program instead. */
const program = (p: Program): Program => ({ ...p, path: process.env[p.variable] || p.path });

/** Outside programs some suites drive, and how to get them. */
const PROGRAMS: Program[] = [
  program({
    name: 'Chromium',
    variable: 'CHROMIUM_PATH',
    path: '/usr/bin/chromium',
    suites: ['test/**/*.browser.test.ts'],
    install: 'apt-get install chromium (or set CHROMIUM_PATH)',
  }),
  // The image service's clients (test/clients/rest/): PHP with its curl
  // extension, Python with requests, and the curl command.
  program({
    name: 'PHP',
    variable: 'PHP_PATH',
    path: '/usr/bin/php',
    needs: { what: 'the curl extension', args: ['-r', 'exit(function_exists("curl_init")?0:1);'] },
    suites: ['test/rest-image-clients.test.ts'],
    install: 'apt-get install php-cli php-curl (or set PHP_PATH)',
  }),
  program({
    name: 'Python 3',
    variable: 'PYTHON_PATH',
    path: '/usr/bin/python3',
    needs: { what: 'the requests module', args: ['-c', 'import requests'] },
    suites: ['test/rest-image-clients.test.ts'],
    install: 'apt-get install python3-requests (or set PYTHON_PATH to a python3 that has requests)',
  }),
  program({
    name: 'curl',
    variable: 'CURL_PATH',
    path: '/usr/bin/curl',
    suites: ['test/rest-image-clients.test.ts', 'test/rest-curl.test.ts'],
    install: 'apt-get install curl (or set CURL_PATH)',
  }),
];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What keeps the program from serving its suites (as a notice and as CI's error), or null if nothing. */
function lacking(p: Program): { notice: string; error: string } | null {
  if (!executable(p.path)) return { notice: `${p.name} not at ${p.path}`, error: `${p.name} is not at ${p.path}` };
  if (p.needs && spawnSync(p.path, p.needs.args, { stdio: 'ignore', timeout: 10_000 }).status !== 0) {
    const why = `${p.name} at ${p.path} lacks ${p.needs.what}`;
    return { notice: why, error: why };
  }
  return null;
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
  const absent: Program[] = [];
  for (const p of PROGRAMS) {
    const why = lacking(p);
    if (why === null) continue;
    absent.push(p);
    if (required) throw new Error(`REQUIRE_SERVICES=1 but ${why.error}: ${p.install}.`);
    notices.push(`${why.notice}: ${p.suites.join(', ')} will NOT run. Install: ${p.install}.`);
  }
  const withoutPrograms = [...new Set(absent.flatMap((p) => p.suites))];
  // The config is evaluated once per project: say it once.
  if (notices.length > 0 && !process.env.TEST_NOTICE_SHOWN) {
    process.env.TEST_NOTICE_SHOWN = '1';
    const bar = '!'.repeat(78);
    console.warn(
      `\n${bar}\n${notices.map((n) => `!! ${n}`).join('\n')}\n!! Set REQUIRE_SERVICES=1 to make them mandatory (CI does).\n${bar}\n`,
    );
  }
  // The suites run the programs this config checked.
  const programPaths = Object.fromEntries(PROGRAMS.map((p) => [p.variable, p.path]));
  const env = { TEST_POSTGRES_URL: POSTGRES_URL, TEST_REDIS_URL: REDIS_URL, ...programPaths };
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
    projects.push(
      project('postgresql', 'postgresql', ['test/**/*.test.ts'], [...REDIS_SUITES, ...SQLITE_ONLY, ...withoutPrograms]),
    );
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
