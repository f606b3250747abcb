// The GraphQL-over-HTTP conformance audit (graphql-http's `auditServer`)
// against the app on a real socket, without a key and with a valid key on
// every audit request. Every MUST and SHOULD audit must pass; along the way,
// no audit request may get a 5xx or a response that leaks internals.
import { type AuditResult, auditServer, serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './helpers/harness.js';
import { answered } from './helpers/hostile.js';
import { type Listening, listen } from './helpers/socket.js';

let h: Harness;
let server: Listening;
let url: string;
beforeAll(async () => {
  h = await createHarness();
  server = await listen(h.app);
  url = server.url;
});
afterAll(async () => {
  await server.close();
  await h.close();
});

interface Sent {
  method: string;
  url: string;
  key: string | null;
  response: Response;
}

/** Every audit's id, as the package lists them (the URL is never fetched here). */
const AUDIT_IDS = serverAudits({ url: 'http://127.0.0.1/graphql' }).map((a) => a.id);

describe.each([
  ['without a key', false],
  ['with a valid X-Access-Key on every request', true],
])('the GraphQL-over-HTTP audit, %s', (_, withKey) => {
  let key: string | undefined;
  let results: AuditResult[];
  const sent: Sent[] = [];

  beforeAll(async () => {
    key = withKey ? (await h.account({ name: 'auditor' })).key : undefined;
    const fetchFn = async (input: string | URL | Request, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      if (key) headers.set('x-access-key', key);
      const res = await fetch(input, { ...init, headers });
      sent.push({
        method: init.method ?? 'GET',
        url: String(input instanceof Request ? input.url : input),
        key: headers.get('x-access-key'),
        response: res.clone(),
      });
      return res;
    };
    results = await auditServer({ url, fetchFn });
  }, 60_000);

  it('passes every MUST and SHOULD audit', () => {
    expect(results.map((r) => r.id).sort(), 'every audit of the package ran').toEqual([...AUDIT_IDS].sort());
    const failed = results
      .filter((r) => r.status !== 'ok')
      .map((r) => `${r.status.toUpperCase()} [${r.id}] ${r.name}${'reason' in r ? ` — ${r.reason}` : ''}`);
    expect(failed, `audits not ok:\n${failed.join('\n')}`).toEqual([]);
  });

  it('sent the key on every audit request (when given), and got no 5xx and no leak', async () => {
    expect(sent.length).toBeGreaterThanOrEqual(AUDIT_IDS.length);
    const problems: string[] = [];
    for (const s of sent) {
      const what = `${s.method} ${decodeURIComponent(s.url).replace(url, '/graphql')}`;
      if (s.key !== (key ?? null)) problems.push(`${what}: sent key ${s.key}`);
      try {
        await answered(s.response, what);
      } catch (e) {
        problems.push((e as Error).message.split('\n')[0]!.slice(0, 300));
      }
    }
    expect(problems, `${problems.length} of ${sent.length} audit requests:\n${problems.join('\n')}`).toEqual([]);
  });
});
