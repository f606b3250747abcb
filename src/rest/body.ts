// Request bodies of the REST doors: read up to a bound, then parsed by the
// Fetch API (JSON, urlencoded and multipart forms), never by hand.
//
// Parsing goes through Node's own `Response` (undici), not the request's
// Fetch implementation: the ponyfill's multipart parser throws a malformed
// body's error outside the promise (an uncaught exception that ends the
// process), where undici rejects with a TypeError.

/**
 * The most a REST body may be: the workspace's batch of 1,000 ids of 64
 * characters is ~70 KB of JSON. Doors whose body is one field take far less
 * (SMALL_BODY_BYTES): parsing is synchronous, and a 256 KiB form of 60,000
 * fields held the event loop ~40 ms per request.
 */
export const MAX_REST_BODY_BYTES = 128 * 1024;
/** A body of one or two fields (a key, a task id). */
export const SMALL_BODY_BYTES = 16 * 1024;

/** A refusal of the client's input: each door answers it in its own shape. */
export class RestInputError extends Error {
  constructor(
    readonly status: 400 | 404 | 405 | 413,
    message: string,
    /**
     * EMPTY: no body at all, which a door may word differently. WORDED: the
     * message is already in the door's words (and language), to show as is.
     */
    readonly reason?: 'EMPTY' | 'WORDED',
  ) {
    super(message);
  }
}

const CONTENT_LENGTH = /^\d+$/;

/** The body's bytes, at most `limit` of them (413 beyond, by Content-Length or while streaming). */
export async function readBody(request: Request, limit = MAX_REST_BODY_BYTES): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!CONTENT_LENGTH.test(declared)) throw new RestInputError(400, 'Malformed Content-Length.');
    if (Number(declared) > limit) throw tooLarge(limit);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    // A client that goes away mid-body is its own mistake, not a server failure.
    const { done, value: chunk } = await reader.read().catch(() => {
      throw new RestInputError(400, 'The request body could not be read.');
    });
    if (done) break;
    // Bytes from a socket; a Request built in-process may stream strings.
    const value: Uint8Array = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    size += value.byteLength;
    if (size > limit) {
      void reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

function tooLarge(limit: number): RestInputError {
  return new RestInputError(413, `The request body is larger than ${limit / 1024} KiB.`);
}

/** The media type of a Content-Type header, lower-case, without parameters. */
export function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A body that must be empty or one JSON object; empty reads as `{}`. */
export async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  const bytes = await readBody(request, limit);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes).trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RestInputError(400, 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RestInputError(400, 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/**
 * The body's fields, whatever the client sent: a JSON object, a urlencoded
 * form or a multipart form (files are not fields: only string values count).
 */
export async function readFields(request: Request, limit: number): Promise<Map<string, unknown>> {
  const type = mediaType(request);
  if (type === 'multipart/form-data' || type === 'application/x-www-form-urlencoded') {
    const bytes = await readBody(request, limit);
    let form: FormData;
    try {
      form = await new Response(bytes, {
        headers: { 'content-type': request.headers.get('content-type')! },
      }).formData();
    } catch {
      throw new RestInputError(400, 'The request body is not a valid form.');
    }
    const fields = new Map<string, unknown>();
    // The first string value of each name (a file part is not a field).
    for (const [name, value] of form) if (typeof value === 'string' && !fields.has(name)) fields.set(name, value);
    return fields;
  }
  // JSON, whatever the Content-Type says (a string body sent without one is text/plain).
  return new Map(Object.entries(await readJsonObject(request, limit)));
}
