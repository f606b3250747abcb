// `npm run schema`: writes the SDL of the Pothos schema to schema.graphql, the
// checked-in source for codegen and the API's documentation. `--check` fails
// when the file is not what the code produces (CI runs it through the tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from './index.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

export function printedSchema(): string {
  return `${printSchema(schema)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sdl = printedSchema();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {}
    if (current !== sdl) {
      console.error('schema.graphql is out of date: run `npm run schema` and commit it.');
      process.exit(1);
    }
    console.log('schema.graphql is current.');
  } else {
    writeFileSync(SCHEMA_FILE, sdl);
    console.log('Wrote schema.graphql');
  }
}
