// Keyset pagination cursors: the position (time, id) of an item in a
// newest-first order, opaque to clients (base64url of JSON).
import { ValidationError } from './errors.js';
import { idProblem } from './input-limits.js';

/** 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z. */
const MIN_MS = -62_135_596_800_000; // (Date.UTC maps years 0–99 to 1900–1999)
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

/** The position in `cursor`, or a ValidationError on `after` saying where valid cursors come from. */
export function decodeCursor(cursor: string, from: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    // Only times the databases store (years 1–9999): before year 1 PostgreSQL
    // refuses the date (a 500), and from year 10000 SQLite's ISO text sorts
    // before every real time (a wrong, empty page).
    if (typeof ms === 'number' && ms >= MIN_MS && ms <= MAX_MS && typeof id === 'string' && idProblem(id) === null) {
      return { at: new Date(ms), id };
    }
  } catch {
    // fall through
  }
  throw new ValidationError('after', `Invalid cursor: pass an endCursor or cursor from a previous page${from}.`);
}
