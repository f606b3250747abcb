/**
 * The caller's API key, from (in this order) the `X-Access-Key` header,
 * `Authorization: Bearer <key>`, or the `access_key` query parameter — the
 * three places the public APIs accept it.
 */
export function apiKeyFrom(request: Request): string | undefined {
  const header = request.headers.get('x-access-key')?.trim();
  if (header) return header;
  const auth = request.headers.get('authorization');
  const bearer = auth?.match(/^\s*Bearer\s+(\S+)\s*$/i)?.[1];
  if (bearer) return bearer;
  const query = new URL(request.url).searchParams.get('access_key')?.trim();
  return query || undefined;
}
