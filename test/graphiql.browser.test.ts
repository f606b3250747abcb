// GraphiQL in a real browser (Debian's chromium driven by playwright-core) with
// every request to anything but this server blocked: it must load, run the
// example query with the demo key, and show the task.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createRuntime, type Runtime } from '../src/runtime.js';
import { type Listening, listen } from './helpers/socket.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../test-results/', import.meta.url);

let dir: string;
let runtime: Runtime;
let server: Listening | undefined;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No browser at ${CHROMIUM}: the GraphiQL test cannot run. Install Debian's chromium (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH.`,
    );
  }
  dir = await mkdtemp(path.join(tmpdir(), 'graphiql-'));
  const config = loadConfig({ NODE_ENV: 'development', DATABASE_URL: `file:${path.join(dir, 'app.db')}` });
  runtime = await createRuntime(config, createLogger('silent'));
  server = await listen(runtime.app);
  origin = server.origin;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await runtime?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('GraphiQL', () => {
  it('works with no network but this server: runs the example query with the demo key and shows the task', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const blocked: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    await page.goto(`${origin}/graphql`);
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ state: 'visible', timeout: 20_000 });
    // The demo key is prefilled in the headers editor.
    expect(await page.content()).toContain(runtime.demo!.apiKey);
    await run.click();

    // Monaco renders spaces as no-break spaces; compare normalised text.
    const response = async () => (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');
    await expect.poll(response, { timeout: 20_000 }).toContain('Monthly screenshot');
    const text = await response();
    expect(text).toContain('"__typename": "Task"');
    expect(text).toContain('5650820808835072');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('graphiql.png', ARTIFACTS).pathname, fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(blocked).toEqual([]);
  });
});
