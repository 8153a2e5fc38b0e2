/**
 * Finds and runs the external tools. This program only calls them: `bash scripts/setup.sh --deploy`
 * installs them, so a missing tool fails its checks with that command.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SETUP_COMMAND = 'bash scripts/setup.sh --deploy';

const VENV_BIN = path.join(ROOT, '.tools', 'venv', 'bin');
const TOOLS_BIN = path.join(ROOT, '.tools', 'bin');

/**
 * Where each tool is looked for, first match wins. The linters come only from the hash-pinned
 * .tools/venv (another version could judge differently); the rest may also be a system copy.
 */
const LOCATIONS = {
  'docker-compose': { dirs: [], onPath: true },
  'kubernetes-validate': { dirs: [VENV_BIN], onPath: false },
  hadolint: { dirs: [VENV_BIN], onPath: false },
  shellcheck: { dirs: [VENV_BIN], onPath: false },
  'nats-server': { dirs: [VENV_BIN], onPath: true },
  skaffold: { dirs: [TOOLS_BIN], onPath: true },
  go: { dirs: [], onPath: true },
} satisfies Record<string, { dirs: string[]; onPath: boolean }>;
export type ToolName = keyof typeof LOCATIONS;

const isExecutable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

export function findTool(name: ToolName): string | undefined {
  const { dirs, onPath } = LOCATIONS[name];
  const searchPath = onPath ? (process.env.PATH ?? '').split(path.delimiter).filter(Boolean) : [];
  return [...dirs, ...searchPath].map((dir) => path.join(dir, name)).find(isExecutable);
}

export function requireTool(name: ToolName): string {
  const file = findTool(name);
  if (file) return file;
  if (name === 'go')
    throw new Error(`go is not installed: install Go (https://go.dev/dl/), then run \`${SETUP_COMMAND}\``);
  throw new Error(`${name} is not installed: run \`${SETUP_COMMAND}\``);
}

export interface RunResult {
  ok: boolean;
  stdout: string;
  /** stdout and stderr together, as a terminal would show them */
  output: string;
}

/**
 * Runs a command in the repository root. `env` entries are added to this process's environment;
 * an undefined value removes the variable.
 */
export function run(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): RunResult {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const result = spawnSync(command, args, { cwd: ROOT, env: childEnv, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) return { ok: false, stdout: '', output: `${command}: ${result.error.message}` };
  const output = `${result.stdout}${result.stderr}`.trim();
  return { ok: result.status === 0, stdout: result.stdout, output };
}

/** The problems of a command that must succeed: none, or what it printed. */
export const problemsOf = (result: RunResult): string[] =>
  result.ok ? [] : [result.output || 'failed without output'];

/** A tool's version for a check's name, or '' when the tool is missing (its check then fails). */
export function versionOf(name: ToolName, args: readonly string[], pick: (output: string) => string): string {
  const file = findTool(name);
  if (!file) return '';
  const result = run(file, args);
  return result.ok ? pick(result.output) : '';
}

/** `hadolint 2.15.1`, or just `hadolint` when its version is unknown (the tool is missing). */
export const withVersion = (tool: string, version: string): string => (version ? `${tool} ${version}` : tool);

/** Last word of the first line: `nats-server: v2.15.1`, `Haskell Dockerfile Linter 2.15.1`. */
export const lastWord = (output: string): string => output.split('\n')[0]?.trim().split(/\s+/).pop() ?? '';
