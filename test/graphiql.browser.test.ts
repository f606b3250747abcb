// GraphiQL in a real browser (Debian's chromium driven by playwright-core) with
// every request to anything but this server blocked: it must load, run the
// example query with the demo key, and show the task.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserRig, responseText, screenshot, startBrowserRig } from './helpers/browser.js';

let rig: BrowserRig | undefined;

beforeAll(async () => {
  rig = await startBrowserRig('graphiql');
});

afterAll(async () => {
  await rig?.close();
});

describe('GraphiQL', () => {
  it('works with no network but this server: runs the example query with the demo key and shows the task', async () => {
    const { runtime, origin } = rig!;
    const { page, blocked, pageErrors } = await rig!.openPage();

    await page.goto(`${origin}/graphql`);
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ state: 'visible', timeout: 20_000 });
    // The demo key is prefilled in the headers editor.
    expect(await page.content()).toContain(runtime.demo!.apiKey);
    await run.click();

    const response = () => responseText(page);
    await expect.poll(response, { timeout: 20_000 }).toContain('Monthly screenshot');
    const text = await response();
    expect(text).toContain('"__typename": "Task"');
    expect(text).toContain('5650820808835072');

    await screenshot(page, 'graphiql.png');
    expect(pageErrors).toEqual([]);
    expect(blocked).toEqual([]);
  });
});
