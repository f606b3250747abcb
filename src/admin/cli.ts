// Operator commands: a thin door onto src/services. Each migrates the database
// first, so it works on an empty database; on an up-to-date one that is a single
// read, so it also works while a server has the database open.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import {
  findAccountByIdOrName,
  insertAccount,
  insertApiKey,
  listAccounts,
  revokeApiKey,
} from '../services/accounts.js';
import { ImportRejected, importData } from '../services/import.js';

const USAGE = `Usage:
  npm run admin -- import <file.json>
  npm run admin -- create-account --plan <free|basic|growth|scale> [--name <name>] [--quota <n>] [--billing <ok|unpaid>]
  npm run admin -- create-key --account <account id or name>
  npm run admin -- revoke-key <key>
  npm run admin -- list-accounts`;

class UsageError extends Error {}

const PLANS = ['FREE', 'BASIC', 'GROWTH', 'SCALE'] as const;
const BILLINGS = ['OK', 'UNPAID'] as const;

function oneOf<T extends string>(values: readonly T[], raw: string | undefined, flag: string, fallback?: T): T {
  const v = (raw ?? fallback)?.toUpperCase();
  if (v && (values as readonly string[]).includes(v)) return v as T;
  throw new UsageError(`${flag} must be one of ${values.map((x) => x.toLowerCase()).join(', ')}`);
}

async function run(argv: string[]): Promise<unknown> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      plan: { type: 'string' },
      name: { type: 'string' },
      quota: { type: 'string' },
      billing: { type: 'string' },
      account: { type: 'string' },
    },
  });
  const commands = ['import', 'create-account', 'create-key', 'revoke-key', 'list-accounts'];
  if (!command || !commands.includes(command)) throw new UsageError('');

  const config = loadConfig();
  await migrateDatabase(config.databaseUrl);
  const db = await openDatabase(config.databaseUrl);
  try {
    switch (command) {
      case 'import': {
        const file = positionals[0];
        if (!file) throw new UsageError('import needs a file');
        let data: unknown;
        try {
          data = JSON.parse(await readFile(file, 'utf8'));
        } catch (e) {
          throw new ImportRejected([`${file}: ${(e as Error).message}`]);
        }
        return { imported: await importData(db, data) };
      }
      case 'create-account': {
        const plan = oneOf(PLANS, values.plan, '--plan');
        const billing = oneOf(BILLINGS, values.billing, '--billing', 'OK');
        const quotaLimit = Number(values.quota ?? 1000);
        if (!Number.isInteger(quotaLimit) || quotaLimit < 0) throw new UsageError('--quota must be a whole number');
        const name = values.name ?? `account-${new Date().toISOString().slice(0, 10)}`;
        return await db.transaction(async (tx) => {
          const accountId = await insertAccount(tx, { name, plan, billing, quotaLimit }, Date.now());
          const apiKey = await insertApiKey(tx, accountId);
          return { accountId, name, plan, billing, quotaLimit, apiKey };
        });
      }
      case 'create-key': {
        const ref = values.account;
        if (!ref) throw new UsageError('create-key needs --account <account id or name>');
        const account = await findAccountByIdOrName(db.read, ref);
        if (account.status === 'none') throw new UsageError(`no account has the id or name ${JSON.stringify(ref)}`);
        if (account.status === 'ambiguous') {
          throw new UsageError(
            `${account.ids.length} accounts are named ${JSON.stringify(ref)}; give one of their ids: ${account.ids.join(', ')}`,
          );
        }
        const apiKey = await db.transaction((tx) => insertApiKey(tx, account.id));
        return { accountId: account.id, name: account.name, apiKey };
      }
      case 'list-accounts':
        return await listAccounts(db.read);
      default: {
        const key = positionals[0];
        if (!key) throw new UsageError('revoke-key needs the key');
        const revoked = await db.transaction((tx) => revokeApiKey(tx, key, Date.now()));
        if (!revoked) throw new UsageError('no live key matches');
        return { revoked: true };
      }
    }
  } finally {
    await db.close();
  }
}

try {
  console.log(JSON.stringify(await run(process.argv.slice(2)), null, 2));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(e.message ? `${e.message}\n\n${USAGE}` : USAGE);
    process.exit(2);
  }
  if (e instanceof ImportRejected || e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
