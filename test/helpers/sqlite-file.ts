// A migrated SQLite database file for the suites about the file itself (locks
// held by another process, the file removed or replaced), whichever database
// the vitest project runs the rest of the suite on.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrateDatabase } from '../../src/db/migrate.js';
import type { TestDatabase } from './database.js';

// Migrating costs a schema-engine start: once per worker, then copies.
let template: Promise<string> | undefined;

export async function sqliteTestDatabase(): Promise<TestDatabase & { file: string }> {
  template ??= (async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'tasks-sqlite-template-')), 'template.db');
    await migrateDatabase(`file:${file}`);
    return file;
  })();
  const dir = await mkdtemp(path.join(tmpdir(), 'tasks-sqlite-'));
  const file = path.join(dir, 'test.db');
  await copyFile(await template, file);
  return { file, url: `file:${file}`, drop: () => rm(dir, { recursive: true, force: true }) };
}
