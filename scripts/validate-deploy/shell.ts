/** The repository's shell scripts, ShellCheck'd: the set-up, CI's entry point and the containers' scripts. */
import { exists, filesUnder } from './files';
import type { Report } from './report';
import { problemsOf, requireTool, run, versionOf, withVersion } from './tools';

/** CI's entry point has no .sh suffix. */
const EXTENSIONLESS_SCRIPTS = ['.ci/run'];

const shellScripts = (): string[] => [
  ...['scripts', 'infra'].flatMap((dir) => filesUnder(dir).filter((file) => file.endsWith('.sh'))),
  ...EXTENSIONLESS_SCRIPTS.filter(exists),
];

export function checkShellScripts(report: Report): void {
  const scripts = shellScripts();
  const version = versionOf('shellcheck', ['--version'], (output) => /^version: (\S+)/m.exec(output)?.[1] ?? '');
  report.check(`shell scripts: ${withVersion('shellcheck', version)} (${scripts.length} files)`, () =>
    problemsOf(run(requireTool('shellcheck'), scripts)),
  );
}
