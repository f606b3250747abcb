// `npm start` under a process manager, which signals only the process it
// started (npm), and in a terminal, where Ctrl-C signals the whole process
// group: either way the server must stop in order and leave nothing behind.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/database.js';
import { npmStart, processesInGroup } from './helpers/run.js';

/** Resolves with the connection error's code, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: 'localhost' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

const cases = [
  // npm, then the one server process: no shell, no loader process between them.
  { script: 'start', signal: 'SIGTERM', to: "npm's PID alone", processes: ['npm run start', 'node'] },
  { script: 'start', signal: 'SIGINT', to: "npm's PID alone", processes: ['npm run start', 'node'] },
  { script: 'start', signal: 'SIGINT', to: 'its process group (Ctrl-C)', processes: ['npm run start', 'node'] },
  // tsx watch supervises the server process it restarts on changes.
  { script: 'dev', signal: 'SIGTERM', to: "npm's PID alone", processes: ['npm run dev', 'node', 'node'] },
] as const;

/** The commands of a process group's members, except esbuild: tsx's compiler
 * service, a child of the server process that ends with it. */
const commands = (pgid: number) =>
  processesInGroup(pgid)
    .map((p) => p.slice(p.indexOf(' ') + 1))
    .filter((c) => c !== 'esbuild');

describe('npm start and npm run dev, signalled', () => {
  for (const { script, signal, to, processes } of cases) {
    it(`npm run ${script}: ${signal} to ${to} stops it gracefully within 10 s, leaving no process behind`, async () => {
      const database = await createTestDatabase({ migrated: false });
      const server = npmStart({ DATABASE_URL: database.url }, script);
      const npmPid = server.child.pid!;
      try {
        const [, port] = await server.waitFor(/"url":"http:\/\/localhost:(\d+)\/graphql"/);
        const tree = commands(npmPid);

        process.kill(to.startsWith('its process group') ? -npmPid : npmPid, signal);
        const exit = await Promise.race([server.exited, sleep(10_000, 'still running after 10 s')]);
        const output = server.output();
        // One comparison, so a failure shows every symptom at once.
        expect({
          exit,
          orderlyStop: [`"signal":"${signal}","msg":"shutting down`, '"msg":"stopped"'].map((m) => output.includes(m)),
          leftBehind: processesInGroup(npmPid),
          port: await tryConnect(Number(port)),
          processesWhileServing: tree,
        }).toEqual({
          exit: { code: 0, signal: null },
          orderlyStop: [true, true],
          leftBehind: [],
          port: 'ECONNREFUSED',
          processesWhileServing: processes,
        });
      } finally {
        server.killGroup();
        await database.drop();
      }
    });
  }
});
