/**
 * Reading docs/contract.md and the src tree for test/docs/contract.test.ts: the page's tables (lines
 * split on `|`), its code spans and links, and every string the code can produce.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface Table {
  /** The nearest heading above the table. */
  heading: string;
  columns: string[];
  rows: Record<string, string>[];
}

const isRow = (line: string | undefined): line is string => line !== undefined && line.trim().startsWith('|');
const isDelimiter = (line: string | undefined) => line !== undefined && /^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(line);
const cellsOf = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());

/** Every table of the page; a row whose cell count is not its header's (a stray `|`) throws, naming it. */
export function tablesOf(markdown: string): Table[] {
  const lines = markdown.split('\n');
  const tables: Table[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '').trim();
    if (!isRow(line) || !isDelimiter(lines[i + 1])) continue;
    const columns = cellsOf(line);
    const rows: Record<string, string>[] = [];
    for (i += 2; isRow(lines[i]); i++) {
      const cells = cellsOf(lines[i]!);
      if (cells.length !== columns.length)
        throw new Error(`docs/contract.md line ${i + 1} has ${cells.length} cells, its table ${columns.length}`);
      rows.push(Object.fromEntries(columns.map((column, c) => [column, cells[c]!])));
    }
    tables.push({ heading, columns, rows });
  }
  return tables;
}

/** The one table with exactly these columns (under this heading, when given); throws naming what is missing. */
export function tableWith(tables: Table[], columns: string[], heading?: string): Table {
  const found = tables.filter(
    (t) => t.columns.join('|') === columns.join('|') && (heading === undefined || t.heading === heading),
  );
  if (found.length !== 1) {
    const where = heading === undefined ? '' : ` under "${heading}"`;
    throw new Error(
      `docs/contract.md should have one table with columns | ${columns.join(' | ')} |${where}; it has ${found.length}`,
    );
  }
  return found[0]!;
}

/** The `code spans` of a cell, in order. */
export const codeSpans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** The targets of the page's `[text](target)` links. */
export const linksOf = (markdown: string): string[] =>
  [...markdown.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);

/** GitHub's anchors for the page's headings. */
export const headingAnchors = (markdown: string): string[] =>
  [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
    m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-'),
  );

/** A part of a string that the code computes at run time (`${…}`, or a non-literal operand of `+`). */
const HOLE = Symbol('hole');
type Part = string | typeof HOLE;

function partsOf(node: ts.Node): Part[] | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node))
    return [node.head.text, ...node.templateSpans.flatMap((span): Part[] => [HOLE, span.literal.text])];
  if (ts.isParenthesizedExpression(node)) return partsOf(node.expression);
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = partsOf(node.left);
    const right = partsOf(node.right);
    if (!left && !right) return undefined;
    return [...(left ?? [HOLE]), ...(right ?? [HOLE])];
  }
  return undefined;
}

export interface SourceString {
  /** Matches the whole of every string the expression can produce; a computed part matches anything. */
  pattern: RegExp;
  /** How many characters of it are fixed text. */
  fixed: number;
  /** The string itself, when nothing in it is computed. */
  literal?: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every string literal, template and concatenation in the .ts files under `dir`, parsed by TypeScript. */
export function sourceStrings(dir: string): SourceString[] {
  const strings: SourceString[] = [];
  const visitFile = (file: string) => {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    const visit = (node: ts.Node): void => {
      const parts = partsOf(node);
      if (parts) {
        const text = parts.filter((p): p is string => p !== HOLE);
        strings.push({
          pattern: new RegExp(`^${parts.map((p) => (p === HOLE ? '.*' : escapeRegExp(p))).join('')}$`, 's'),
          fixed: text.join('').length,
          ...(text.length === parts.length ? { literal: text.join('') } : {}),
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  };
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) visitFile(full);
    }
  };
  walk(dir);
  return strings;
}

/**
 * Whether the code can produce this message: a string of the code matches all of it, and most of
 * it is that string's fixed text (so `${a}: ${b}` alone does not vouch for any message with a colon).
 */
export const producedBy = (strings: SourceString[], message: string): boolean =>
  strings.some((s) => s.fixed * 2 >= message.length && s.pattern.test(message));
