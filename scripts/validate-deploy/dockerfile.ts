/** Dockerfile and .dockerignore: hadolint, then the image's own rules. */
import { exists, readText } from './files';
import { workflowBundleUnder } from './from-source';
import { messageOf, type Report } from './report';
import { lastWord, problemsOf, requireTool, run, versionOf, withVersion } from './tools';

/** Files and folders that must stay out of the build context (secrets, caches, local tools). */
const IGNORED = ['node_modules', '.tools', '.data', 'dist', 'test-artifacts', '.git'];
/** Where the build stage leaves the prebuilt workflow bundle, as the runtime stage sees it. */
const WORKFLOW_BUNDLE = '/app/dist/workflow-bundle.js';
/** The runtime stage's promises, each with the reason it matters. */
const RUNTIME_STAGE_NEEDS: ReadonlyArray<[needle: string, why: string]> = [
  ['NODE_ENV=production', 'the runtime stage must set NODE_ENV=production'],
  ['CMD ["node", "dist/api/server.js"]', 'the default command must run the API'],
];

export function checkDockerfile(report: Report): void {
  const version = versionOf('hadolint', ['--version'], lastWord);
  report.check(`Dockerfile: ${withVersion('hadolint', version)} (failure threshold: style)`, () =>
    problemsOf(run(requireTool('hadolint'), ['--no-color', '--failure-threshold', 'style', 'Dockerfile'])),
  );
  report.check('Dockerfile: multi-stage, non-root, bundle, sources it copies exist', dockerfileProblems);
}

function dockerfileProblems(): string[] {
  const text = readText('Dockerfile');
  const problems: string[] = [];
  const stages = [...text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];
  if (stages.length < 3) problems.push('expected a multi-stage build');
  const baseImage = /^ARG NODE_IMAGE=(\S+)/m.exec(text)?.[1] ?? '';
  if (!/^node:26\.\d+\.\d+-bookworm-slim$/.test(baseImage)) {
    problems.push('the base image should be a pinned node:26.x.y-bookworm-slim');
  }
  const runtime = text.slice(text.toLowerCase().lastIndexOf('\nfrom '));
  for (const [needle, why] of RUNTIME_STAGE_NEEDS) if (!runtime.includes(needle)) problems.push(why);
  problems.push(...runtimeConfigurationProblems(runtime));
  const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1]!.split(':')[0]);
  const finalUser = users.at(-1);
  if (finalUser === undefined || finalUser === 'root' || finalUser === '0') {
    problems.push('the runtime stage must end as a non-root user');
  }
  if (!text.includes('--omit=dev')) problems.push('production dependencies should come from npm ci --omit=dev');
  for (const [, copy] of text.matchAll(/^COPY\s+(?!--from)(.+)$/gm)) {
    const sources = copy!
      .split(/\s+/)
      .filter((part) => part && !part.startsWith('--'))
      .slice(0, -1); // the last one is the destination
    for (const source of sources) if (!exists(source)) problems.push(`COPY source ${source} does not exist`);
  }
  const ignored = readText('.dockerignore')
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .map((line) => line.trim())
    .filter(Boolean);
  for (const entry of IGNORED) if (!ignored.includes(entry)) problems.push(`.dockerignore should exclude ${entry}`);
  return problems;
}

/** The runtime stage's ENV, as src/config/ reads it, must point the worker at the prebuilt bundle. */
function runtimeConfigurationProblems(runtimeStage: string): string[] {
  let bundle: string | undefined;
  try {
    bundle = workflowBundleUnder(environmentOf(runtimeStage));
  } catch (error) {
    return [`the runtime stage's environment is not a valid configuration: ${messageOf(error)}`];
  }
  return bundle === WORKFLOW_BUNDLE ? [] : [`the runtime stage must have the worker load ${WORKFLOW_BUNDLE}`];
}

/** The variables a stage's ENV instructions set (`ENV A=1 B=2`, continuation lines joined). */
function environmentOf(stage: string): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [, assignments] of stage.replace(/\\\n/g, ' ').matchAll(/^ENV\s+(.+)$/gm)) {
    for (const assignment of assignments!.split(/\s+/)) {
      const equals = assignment.indexOf('=');
      if (equals > 0) environment[assignment.slice(0, equals)] = assignment.slice(equals + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return environment;
}
