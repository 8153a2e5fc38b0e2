/** Reading the repository's files: text, YAML documents, directory walks and skaffold's globs. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './tools';

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A mapping field that may be absent: `{}` instead, so that nested look-ups stay short. */
export const recordAt = (value: unknown, key: string): Record<string, unknown> => {
  const field = isRecord(value) ? value[key] : undefined;
  return isRecord(field) ? field : {};
};

export const listAt = (value: unknown, key: string): unknown[] => {
  const field = isRecord(value) ? value[key] : undefined;
  return Array.isArray(field) ? field : [];
};

export const exists = (relative: string): boolean => fs.existsSync(path.join(ROOT, relative));

export const readText = (relative: string): string => fs.readFileSync(path.join(ROOT, relative), 'utf8');

/** Every document of a YAML stream as plain values (an empty document is null). */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  // merge: the `<<` keys of YAML 1.1, which the tools that read these files (PyYAML, Go) accept
  return parseAllDocuments(text, { merge: true }).map((document) => {
    const [error] = document.errors;
    if (error) throw new Error(`${source}: ${error.message}`);
    return document.toJS() as unknown;
  });
}

export const readYamlDocuments = (relative: string): unknown[] => parseYamlDocuments(readText(relative), relative);

export function readYaml(relative: string): unknown {
  const documents = readYamlDocuments(relative);
  if (documents.length !== 1) throw new Error(`${relative}: expected one YAML document, found ${documents.length}`);
  return documents[0];
}

/** Files under a directory, recursively, as sorted paths relative to the repository root. */
export function filesUnder(relativeDir: string): string[] {
  const entries = fs.readdirSync(path.join(ROOT, relativeDir), { withFileTypes: true });
  return entries
    .flatMap((entry) => {
      const relative = path.posix.join(relativeDir, entry.name);
      if (entry.isDirectory()) return filesUnder(relative);
      return entry.isFile() ? [relative] : [];
    })
    .sort();
}

const subdirectories = (relativeDir: string): string[] => {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(ROOT, relativeDir || '.'), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .flatMap((entry) => {
      const relative = path.posix.join(relativeDir, entry.name);
      return [relative, ...subdirectories(relative)];
    });
};

const segmentPattern = (segment: string): RegExp =>
  new RegExp(
    `^${segment
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/**
 * Paths matching a glob relative to the repository root, as skaffold's rawYaml patterns use them:
 * `*`, `?` and `[...]` within one path segment, `**` for any depth; hidden names match no wildcard.
 */
export function glob(pattern: string): string[] {
  let matches = [''];
  for (const segment of pattern.split('/')) {
    matches = matches.flatMap((base) => {
      if (segment === '**') return [base, ...subdirectories(base)];
      if (!/[*?[]/.test(segment)) {
        const candidate = path.posix.join(base, segment);
        return exists(candidate) ? [candidate] : [];
      }
      const wanted = segmentPattern(segment);
      try {
        return fs
          .readdirSync(path.join(ROOT, base || '.'))
          .filter((name) => !name.startsWith('.') && wanted.test(name))
          .map((name) => path.posix.join(base, name));
      } catch {
        return []; // base is a file, not a directory
      }
    });
  }
  return [...new Set(matches)].sort();
}

/** Runs `use` on a temporary file holding `content` (a tool reads it); the file is gone afterwards. */
export function withTempFile<T>(name: string, content: string, use: (file: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'validate-deploy-'));
  try {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return use(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
