// `npm test` on a fresh machine: a suite that needs an outside program the
// machine lacks is skipped with a loud notice; with REQUIRE_SERVICES=1 (CI)
// the run fails instead. Shown by listing the suite as vitest would run it.
import { describe, expect, it } from 'vitest';
import { run } from './helpers/run.js';

async function vitestList(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { code, stdout, stderr } = await run(
    'npx',
    ['vitest', 'list', '--project', 'sqlite', 'test/graphiql.browser.test.ts', 'test/schedule-dst.test.ts'],
    // Not the parent run's own markers (the notice is printed once per run).
    { TEST_NOTICE_SHOWN: '', REQUIRE_SERVICES: '', ...env },
  );
  return { code, output: stdout + stderr };
}

describe('a suite whose outside program is missing (Chromium here)', () => {
  it('is skipped with a loud notice on a developer machine; the rest runs', async () => {
    const { code, output } = await vitestList({ CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(code).toBe(0);
    expect(output).toContain('!! Chromium not at /nonexistent/chromium: test/**/*.browser.test.ts will NOT run.');
    expect(output).not.toContain('graphiql.browser.test.ts >');
    expect(output).toContain('test/schedule-dst.test.ts > describeSchedule');
  });

  it('fails the run with REQUIRE_SERVICES=1, as in CI', async () => {
    const { code, output } = await vitestList({ CHROMIUM_PATH: '/nonexistent/chromium', REQUIRE_SERVICES: '1' });
    expect(code).not.toBe(0);
    expect(output).toContain('REQUIRE_SERVICES=1 but Chromium is not at /nonexistent/chromium');
  });
});
