// GraphiQL served from the installed @graphql-yoga/graphiql package instead of
// a public CDN, so it works on a network without internet.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

export const ASSETS_PATH = '/graphiql-assets/';

const dist = path.dirname(createRequire(import.meta.url).resolve('@graphql-yoga/graphiql'));

/** The files GraphiQL loads; nothing else under ASSETS_PATH is served. */
const ASSETS: Record<string, string> = {
  'graphiql.css': 'text/css; charset=utf-8',
  'yoga-graphiql.umd.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/editor.worker.bundle.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/json.worker.bundle.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/graphql.worker..bundle.js': 'text/javascript; charset=utf-8',
};

const cache = new Map<string, Uint8Array<ArrayBuffer>>();

function asset(name: string): Uint8Array<ArrayBuffer> {
  let body = cache.get(name);
  if (!body) {
    body = new Uint8Array(readFileSync(path.join(dist, name)));
    cache.set(name, body);
  }
  return body;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** yoga's own GraphiQL page with every URL pointing at this server. */
export function renderGraphiQL(options: GraphiQLOptions = {}): string {
  const a = (name: string) => `${ASSETS_PATH}${name}`;
  // yoga's GraphiQL component opens with `query`, not `defaultQuery` (its own
  // option), so pass the example as both.
  const withQuery = { ...options, query: options.defaultQuery };
  // JSON inside <script>: escape `<` so the options cannot close the tag.
  const opts = JSON.stringify(withQuery).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
<link rel="stylesheet" href="${a('graphiql.css')}"></head>
<body id="body" class="no-focus-outline"><noscript>You need to enable JavaScript to run GraphiQL.</noscript><div id="root">Loading…</div>
<script>
const workers = {};
const workerUrls = {
  editorWorkerService: ${JSON.stringify(a('monacoeditorwork/editor.worker.bundle.js'))},
  json: ${JSON.stringify(a('monacoeditorwork/json.worker.bundle.js'))},
  graphql: ${JSON.stringify(a('monacoeditorwork/graphql.worker..bundle.js'))},
};
function prepareWorkers() {
  return Promise.all(Object.entries(workerUrls).map(async ([label, url]) => {
    const source = await (await fetch(url)).text();
    workers[label] = URL.createObjectURL(new Blob([source], { type: 'application/javascript' }));
  }));
}
self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_, label) => workers[label] };
</script>
<script src="${a('yoga-graphiql.umd.js')}"></script>
<script>prepareWorkers().finally(() => YogaGraphiQL.renderYogaGraphiQL(root, ${opts}));</script>
</body></html>`;
}

/** Serves the GraphiQL assets (GET only, immutable for the installed version). */
export function useGraphiQLAssets(): Plugin {
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(ASSETS_PATH)) return;
      const name = url.pathname.slice(ASSETS_PATH.length);
      const type = ASSETS[name];
      if (request.method !== 'GET' || !type) {
        endResponse(new fetchAPI.Response('Not found', { status: 404 }));
        return;
      }
      endResponse(
        new fetchAPI.Response(asset(name), {
          status: 200,
          headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' },
        }),
      );
    },
  };
}
