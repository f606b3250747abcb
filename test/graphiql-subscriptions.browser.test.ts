// GraphiQL runs a subscription in a real browser (Debian's chromium driven by
// playwright-core, every other host blocked). yoga's GraphiQL (4.5, protocol
// GRAPHQL_SSE on its own endpoint by default) sends it as GraphQL over SSE:
// GET /graphql?query=…&operationName=… with Accept: text/event-stream and the
// headers of its headers editor (here the demo key). So it needs no WebSocket
// (this server has none). A change made by another client (a plain fetch)
// appears in its result pane.
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASK_IDS } from '../src/services/demo.js';
import { type BrowserRig, responseText, screenshot, startBrowserRig } from './helpers/browser.js';
import { until } from './helpers/until.js';

let rig: BrowserRig | undefined;

beforeAll(async () => {
  // HTTP only: no WebSocket door, so a subscription that works went over SSE.
  rig = await startBrowserRig('graphiql-subscriptions');
});

afterAll(async () => {
  // The page's event stream would hold the server open: end every stream first.
  rig?.runtime.deps.subscriptions.endAll();
  await rig?.close();
});

const SUBSCRIPTION =
  'subscription Live { taskEvents { __typename ... on TaskChanged { change task { id name status } } ... on Error { code message } } }';

describe('GraphiQL', () => {
  it('runs a subscription over SSE with the headers editor’s key and shows an event another client caused', async () => {
    const { runtime, origin } = rig!;
    const { apiKey, accountId } = runtime.demo!;
    const taskId = DEMO_TASK_IDS[0]; // "Monthly screenshot", ACTIVE
    const { page, blocked, pageErrors } = await rig!.openPage();
    const subscribes: Request[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin === origin && url.pathname === '/graphql' && url.searchParams.get('operationName') === 'Live') {
        subscribes.push(r);
      }
    });

    await page.goto(`${origin}/graphql`);
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ state: 'visible', timeout: 20_000 });

    // Replace the example query with the subscription, as a person types it.
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(SUBSCRIPTION);
    const queryText = async () => (await editor.locator('.view-lines').innerText()).replace(/\s+/g, ' ');
    await expect.poll(queryText, { timeout: 10_000 }).toBe(SUBSCRIPTION);
    // Run it. On a loaded machine GraphiQL may still be busy loading the schema when the
    // button first shows: click (again) until the subscription's request goes out.
    await expect
      .poll(
        async () => {
          if (subscribes.length === 0) await run.click();
          return subscribes.length;
        },
        { timeout: 20_000, interval: 3_000 },
      )
      .toBe(1);

    // Live on the server: a change made now reaches it.
    const pane = async () => (await responseText(page)).slice(0, 300);
    try {
      await until('the subscription to be live', () => runtime.deps.events.listenerCount(accountId) >= 1, 20_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; requests ${subscribes.length}; response pane: ${await pane()}`);
    }
    const [request] = subscribes;
    expect(subscribes).toHaveLength(1);
    const headers = await request!.allHeaders();
    // GraphQL over SSE's GET form: the document in the query string.
    expect(request!.method()).toBe('GET');
    expect(new URL(request!.url()).searchParams.get('query')).toContain('taskEvents');
    expect(headers.accept).toContain('text/event-stream');
    expect(headers['x-access-key']).toBe(apiKey);
    const response = await request!.response();
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/event-stream/);

    // Another client pauses a task.
    const paused = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-access-key': apiKey },
      body: JSON.stringify({
        query: 'mutation($id: ID!) { pauseSchedule(id: $id) { __typename } }',
        variables: { id: taskId },
      }),
    });
    expect(await paused.json()).toEqual({ data: { pauseSchedule: { __typename: 'PauseScheduleSuccess' } } });

    const result = () => responseText(page);
    await expect.poll(result, { timeout: 20_000 }).toContain('"change": "PAUSED"');
    const text = await result();
    expect(text).toContain('"__typename": "TaskChanged"');
    expect(text).toContain(`"id": "${taskId}"`);
    expect(text).toContain('"name": "Monthly screenshot"');
    expect(text).toContain('"status": "PAUSED"');

    await screenshot(page, 'graphiql-subscription.png');
    expect(pageErrors).toEqual([]);
    expect(blocked).toEqual([]);
    await page.close();
    await until('the stream to close when the page does', () => runtime.deps.events.listenerCount(accountId) === 0);
  });
});
