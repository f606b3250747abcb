// Notices the SQLite file being removed or replaced under a running server.
// SQLite keeps using the file it opened — unlinked, or renamed over by
// another database — and acknowledges writes that no restart will ever see
// (260 writes and 27,225 tasks were lost that way). So every write
// transaction checks before COMMIT, and /ready checks, that the path still
// names the file opened: one stat(2), ~2.5 µs on this project's machines.
import { statSync } from 'node:fs';
import path from 'node:path';

/** Throws unless the file at `file` is still the one it was when this was called. */
export function sameFileCheck(file: string): () => void {
  const at = path.resolve(file);
  const opened = statSync(at, { bigint: true });
  return () => {
    const now = statSync(at, { bigint: true, throwIfNoEntry: false });
    if (now?.ino !== opened.ino || now.dev !== opened.dev) {
      throw new Error(
        `SQLite database file ${at} was removed or replaced while the server had it open: ` +
          'writes are refused and reads may be stale until you restart the server ' +
          '(first move away any -wal and -shm files left beside it: they belong to the old file)',
      );
    }
  };
}
