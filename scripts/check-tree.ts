/**
 * `npm run check:tree` (part of `npm run check`): what keeps the repository easy to pick up.
 * - Every relative link in its Markdown resolves on a fresh clone: the file exists inside the
 *   repository (nothing points outside it, where a clone elsewhere has nothing), and a `#anchor`
 *   into a Markdown file names one of its headings, as GitHub renders them.
 * - No file under src/ is over 200 lines: one screen, so that it can be read whole.
 * Exits 1 with every failure, each naming its file and line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const MAX_SRC_LINES = 200;

/** Tracked and new files (not ignored ones), as a fresh clone would have them. */
function repoFiles(...patterns: string[]): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...patterns], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return [...new Set(out.split('\0').filter((f) => f && fs.existsSync(path.join(ROOT, f))))];
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes; repeats get -1, -2, … */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of outsideFences(markdown)) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The lines, with those in fenced code blocks blanked. */
function outsideFences(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

const LINK = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g;

/** The relative links of `file` (a path under `root`) that do not resolve inside `root`. */
export function deadLinks(file: string, root = ROOT): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const failures: string[] = [];
  outsideFences(text).forEach((line, i) => {
    for (const m of line.replace(/`[^`]*`/g, '``').matchAll(LINK)) {
      const target = (m[1] ?? m[2])!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = rawPath
        ? path.resolve(path.dirname(path.join(root, file)), decodeURIComponent(rawPath))
        : path.join(root, file);
      const where = `${file}:${i + 1}: ${target}`;
      if (path.relative(root, resolved).startsWith('..')) failures.push(`${where} points outside the repository`);
      else if (!fs.existsSync(resolved)) failures.push(`${where} does not exist`);
      else if (anchor && resolved.endsWith('.md') && !headingAnchors(fs.readFileSync(resolved, 'utf8')).has(anchor))
        failures.push(`${where}: no heading #${anchor} in ${path.relative(root, resolved)}`);
    }
  });
  return failures;
}

/** The files (paths under `root`) over the limit, each with its line count. */
export function longFiles(files: string[], root = ROOT): string[] {
  return files
    .map((file) => ({ file, lines: fs.readFileSync(path.join(root, file), 'utf8').trimEnd().split('\n').length }))
    .filter(({ lines }) => lines > MAX_SRC_LINES)
    .map(({ file, lines }) => `${file}: ${lines} lines, more than ${MAX_SRC_LINES}: split it along its seams`);
}

if (require.main === module) {
  const markdown = repoFiles('*.md');
  const failures = [...markdown.flatMap((file) => deadLinks(file)), ...longFiles(repoFiles('src/*.ts'))];
  if (failures.length > 0) {
    console.error(
      `check:tree: ${failures.length} problem${failures.length === 1 ? '' : 's'}\n  ${failures.join('\n  ')}`,
    );
    process.exit(1);
  }
  console.log(
    `check:tree: ${markdown.length} Markdown files, every relative link resolves; no file under src/ over ${MAX_SRC_LINES} lines`,
  );
}
