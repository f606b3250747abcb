// GraphiQL in a real browser: the app in development (its demo account and
// key, which GraphiQL prefills) on a real socket, and Debian's chromium driven
// by playwright-core. Pages may reach this server only, so GraphiQL is shown
// to work with no network (no CDN, no fonts from elsewhere).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { type Listening, listen } from './socket.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots, to look at what a page showed (git-ignored). */
const ARTIFACTS = new URL('../../test-results/', import.meta.url);

export interface BrowserRig {
  runtime: Runtime;
  /** http://127.0.0.1:<port> */
  origin: string;
  browser: Browser;
  /** A page that may load from this server only (and blob:/data:). */
  openPage(): Promise<IsolatedPage>;
  /** Closes the browser, the server and the runtime, and removes the database. */
  close(): Promise<void>;
}

export interface IsolatedPage {
  page: Page;
  /** What the page tried to load from elsewhere (aborted). */
  blocked: string[];
  /** Its uncaught errors. */
  pageErrors: string[];
}

/** Starts the app on a fresh SQLite file (in a temporary folder named after `name`) and a headless Chromium. */
export async function startBrowserRig(name: string): Promise<BrowserRig> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No browser at ${CHROMIUM}: the browser tests cannot run. Install Debian's chromium (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH.`,
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), `${name}-`));
  let runtime: Runtime | undefined;
  let server: Listening | undefined;
  let browser: Browser | undefined;
  // Whatever was opened, also when starting failed half-way.
  const close = async () => {
    await browser?.close();
    await server?.close();
    await runtime?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const config = loadConfig({ NODE_ENV: 'development', DATABASE_URL: `file:${path.join(dir, 'app.db')}` });
    runtime = await createRuntime(config, createLogger('silent'));
    // HTTP only: no WebSocket door (what works, works without one).
    server = await listen(runtime.app);
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
  } catch (e) {
    await close();
    throw e;
  }
  const origin = server.origin;
  const launched = browser;
  return {
    runtime,
    origin,
    browser,
    async openPage() {
      const page = await launched.newPage({ viewport: { width: 1400, height: 1000 } });
      const blocked: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
        blocked.push(url);
        return route.abort();
      });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      return { page, blocked, pageErrors };
    },
    close,
  };
}

/** GraphiQL's result pane as text. Monaco renders spaces as no-break spaces: compare normalised text. */
export async function responseText(page: Page): Promise<string> {
  return (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');
}

/** A full-page screenshot in test-results/. */
export async function screenshot(page: Page, file: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: new URL(file, ARTIFACTS).pathname, fullPage: true });
}
