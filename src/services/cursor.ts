// Keyset pagination cursors: the position (time, id) of an item in a
// newest-first order, opaque to clients (base64url of JSON).
import { ValidationError } from './errors.js';
import { idProblem } from './input-limits.js';

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

/** The position in `cursor`, or a ValidationError on `after` saying where valid cursors come from. */
export function decodeCursor(cursor: string, from: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    // A Date holds ±8.64e15 ms; beyond it the database would be asked for an invalid date.
    if (typeof ms === 'number' && Math.abs(ms) <= 8.64e15 && typeof id === 'string' && idProblem(id) === null) {
      return { at: new Date(ms), id };
    }
  } catch {
    // fall through
  }
  throw new ValidationError('after', `Invalid cursor: pass an endCursor or cursor from a previous page${from}.`);
}
