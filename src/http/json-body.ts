// JSON request bodies, read strictly. yoga's parser decodes the body leniently
// (invalid UTF-8 becomes U+FFFD, so a mangled document or id still ran) and,
// on malformed JSON, answers with the parser's message, which quotes the body.
// Here: UTF-8 or 400, JSON or 400, a JSON object or 400, no echo; a declared
// charset other than UTF-8 is 415.
import { createGraphQLError, type Plugin } from 'graphql-yoga';

const JSON_TYPES = ['application/json', 'application/graphql+json'];
const utf8 = new TextDecoder('utf-8', { fatal: true });

const refused = (status: number, message: string) =>
  createGraphQLError(message, { extensions: { http: { status }, code: 'BAD_REQUEST' } });

/** The media type and charset of a Content-Type header (only its first value, as yoga reads it). */
function mediaType(header: string | null): { type: string; charset: string | undefined } {
  const [type = '', ...params] = (header ?? '').split(',')[0]!.split(';');
  const charset = params
    .map((p) => p.trim().match(/^charset\s*=\s*"?([^";\s]+)"?$/i)?.[1])
    .find((c) => c !== undefined);
  return { type: type.trim().toLowerCase(), charset: charset?.toLowerCase() };
}

async function parseJsonBody(request: Request): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = utf8.decode(await request.arrayBuffer());
  } catch (e) {
    // The body limit's own 413 passes through; anything else is bad bytes.
    if (e instanceof Error && e.name === 'GraphQLError') throw e;
    throw refused(400, 'POST body is not valid UTF-8.');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw refused(400, 'POST body sent invalid JSON.');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw refused(
      400,
      `POST body is expected to be an object but received ${Array.isArray(body) ? 'an array' : String(body === null ? 'null' : typeof body)}.`,
    );
  }
  return body as Record<string, unknown>;
}

export function useStrictJsonBody(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST') return;
      const { type, charset } = mediaType(request.headers.get('content-type'));
      if (!JSON_TYPES.includes(type)) return;
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
        throw refused(415, 'JSON bodies must be UTF-8.');
      }
      setRequestParser(parseJsonBody);
    },
  };
}
