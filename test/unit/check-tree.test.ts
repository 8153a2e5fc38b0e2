/**
 * `npm run check:tree`, which CI runs with `npm run check`: it must catch a dead relative link, a
 * link out of the repository, a wrong anchor and a file over one screen, on a tree made for it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deadLinks, headingAnchors, longFiles } from '../../scripts/check-tree';

let root: string;
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
};

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'check-tree-'));
  write('docs/api.md', '# The REST API\n\n## Retrying a creation: `Idempotency-Key`\n\n## Routes\n\n## Routes\n');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test('when headings repeat or hold code and punctuation, then their anchors are the ones GitHub renders', () => {
  expect([...headingAnchors(fs.readFileSync(path.join(root, 'docs/api.md'), 'utf8'))]).toEqual([
    'the-rest-api',
    'retrying-a-creation-idempotency-key',
    'routes',
    'routes-1',
  ]);
});

test('when every link resolves inside the repository, then there is nothing to report', () => {
  write(
    'README.md',
    '[api](docs/api.md#routes-1), [web](https://example.com), [top](#readme)\n\n# Readme\n\n```\n[in code](nowhere.md)\n```\n',
  );
  expect(deadLinks('README.md', root)).toEqual([]);
});

test('when a link is dead, leaves the repository or names no heading, then each is reported with its line', () => {
  write('README.md', 'intro\n[gone](docs/gone.md) [out](../shared/DESIGN.md)\n[anchor](docs/api.md#nowhere)\n');
  expect(deadLinks('README.md', root)).toEqual([
    'README.md:2: docs/gone.md does not exist',
    'README.md:2: ../shared/DESIGN.md points outside the repository',
    'README.md:3: docs/api.md#nowhere: no heading #nowhere in docs/api.md',
  ]);
});

test('when a source file is over 200 lines, then it is reported, and one of 200 is not', () => {
  write('src/long.ts', 'x;\n'.repeat(201));
  write('src/fits.ts', 'x;\n'.repeat(200));
  expect(longFiles(['src/long.ts', 'src/fits.ts'], root)).toEqual([
    'src/long.ts: 201 lines, more than 200: split it along its seams',
  ]);
});
