// The README quotes the client setups the tests run: every region of
// test/clients/*.ts between `// README:begin <name>` and `// README:end <name>`
// must appear in README.md, verbatim, inside a fenced ```ts block (the marker
// lines stripped; trailing whitespace and the region's common indentation
// ignored). So the code a reader copies is the code the tests run, and a
// change to a setup fails here until the README shows it.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../', import.meta.url);
const CLIENTS = new URL('test/clients/', ROOT);
/** Regions the README must quote whatever else is marked (a lost marker must not pass by quoting nothing). */
const REQUIRED = ['apollo-ws', 'urql-ws', 'urql-sse'];

interface Region {
  name: string;
  /** test/clients/<file> */
  file: string;
  /** 1-based line of the begin marker. */
  line: number;
  text: string;
}

const MARKER = /^\s*\/\/ README:(begin|end)\b\s*(\S*)\s*$/;

/** Trailing whitespace off each line, blank lines off both ends, common indentation removed. */
function normalise(lines: string[]): string {
  const trimmed = lines.map((l) => l.replace(/\s+$/, ''));
  while (trimmed.length > 0 && trimmed[0] === '') trimmed.shift();
  while (trimmed.length > 0 && trimmed.at(-1) === '') trimmed.pop();
  const indents = trimmed.filter((l) => l !== '').map((l) => /^ */.exec(l)![0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return trimmed.map((l) => l.slice(common)).join('\n');
}

/** The marked regions of one file; throws on a malformed marker. */
function regionsOf(file: string, source: string): Region[] {
  const regions: Region[] = [];
  let open: { name: string; line: number; body: string[] } | undefined;
  for (const [i, line] of source.split('\n').entries()) {
    const where = `test/clients/${file}:${i + 1}`;
    const marker = MARKER.exec(line);
    if (!marker) {
      if (line.includes('README:')) throw new Error(`${where}: malformed README marker: ${line.trim()}`);
      open?.body.push(line);
      continue;
    }
    const [, kind, name] = marker as unknown as [string, 'begin' | 'end', string];
    if (!name) throw new Error(`${where}: README:${kind} needs a region name`);
    if (kind === 'begin') {
      if (open) throw new Error(`${where}: README:begin ${name} inside region ${open.name} (line ${open.line})`);
      open = { name, line: i + 1, body: [] };
    } else {
      if (!open) throw new Error(`${where}: README:end ${name} without a README:begin`);
      if (open.name !== name) throw new Error(`${where}: README:end ${name} closes region ${open.name}`);
      regions.push({ name, file: `test/clients/${file}`, line: open.line, text: normalise(open.body) });
      open = undefined;
    }
  }
  if (open) throw new Error(`test/clients/${file}:${open.line}: README:begin ${open.name} is never ended`);
  return regions;
}

/** The content of every ```ts (or ```typescript) fenced block of a Markdown text, normalised. */
function tsBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let open: { fence: string; indent: number; body: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    if (!open) {
      const start = /^( *)(`{3,}|~{3,})\s*(ts|typescript)\s*$/.exec(line);
      if (start) open = { fence: start[2]!, indent: start[1]!.length, body: [] };
      continue;
    }
    const close = /^ *(`{3,}|~{3,})\s*$/.exec(line);
    if (close && close[1]![0] === open.fence[0] && close[1]!.length >= open.fence.length) {
      blocks.push(normalise(open.body.map((l) => l.replace(new RegExp(`^ {0,${open!.indent}}`), ''))));
      open = undefined;
    } else {
      open.body.push(line);
    }
  }
  return blocks;
}

/** `needle` is whole lines of `haystack`, in a row. */
const containsLines = (haystack: string, needle: string) => `\n${haystack}\n`.includes(`\n${needle}\n`);

const files = readdirSync(CLIENTS)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const regions = files.flatMap((f) => regionsOf(f, readFileSync(new URL(f, CLIENTS), 'utf8')));
const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
const blocks = tsBlocks(readme);

describe('README examples', () => {
  it('the client setups mark the regions the README quotes, each once', () => {
    const names = regions.map((r) => r.name);
    expect(
      names.filter((n, i) => names.indexOf(n) !== i),
      'region names used twice',
    ).toEqual([]);
    expect(
      REQUIRED.filter((n) => !names.includes(n)),
      'regions missing from test/clients/*.ts',
    ).toEqual([]);
    for (const r of regions) expect(r.text, `region ${r.name} (${r.file}:${r.line}) is empty`).not.toBe('');
  });

  it.each(regions.map((r) => [r.name, r] as const))(
    'README.md quotes region %s verbatim in a ```ts block',
    (_name, region) => {
      if (blocks.some((b) => containsLines(b, region.text))) return;
      const lines = region.text.split('\n').length;
      expect.fail(
        `README.md has no \`\`\`ts block containing region "${region.name}" of ${region.file} ` +
          `(the ${lines} lines after its README:begin marker on line ${region.line}). ` +
          'Paste the region (without the marker lines) into a ```ts block of README.md, ' +
          `or update the README's copy of it:\n\n${region.text}\n`,
      );
    },
  );
});
