/** docker-compose.yml: compose itself parses it, then the stack's own rules. */
import { isRecord, parseYamlDocuments, recordAt, withTempFile } from './files';
import { cliSpelling, PLACEHOLDER, requiredConfigVariables, workflowSearchAttributes } from './from-source';
import { isPinnedImage } from './images';
import { messageOf, type Report } from './report';
import { problemsOf, requireTool, run, versionOf } from './tools';

const COMPOSE = ['-f', 'docker-compose.yml'];
const SERVICES = [
  'orders-api',
  'orders-worker',
  'postgresql',
  'temporal',
  'temporal-schema',
  'temporal-setup',
  'temporal-ui',
  'nats',
];

/** The required variables set (to their real value when given), except those left out. */
const environment = (required: readonly string[], without?: string): Record<string, string | undefined> =>
  Object.fromEntries(required.map((name) => [name, name === without ? undefined : process.env[name] || PLACEHOLDER]));

export function checkCompose(report: Report): void {
  const version = versionOf('docker-compose', ['version', '--short'], (output) => output.trim());
  report.check(`docker-compose.yml: docker-compose config -q${version && ` (${version})`}`, () =>
    // A .env file in the repository root is read, as compose reads it.
    problemsOf(
      run(requireTool('docker-compose'), [...COMPOSE, 'config', '-q'], environment(requiredConfigVariables())),
    ),
  );
  checkRefusesWithoutRequiredVariables(report);
  report.check(
    'docker-compose.yml: every image pinned, API and worker built from the Dockerfile',
    resolvedFileProblems,
  );
}

/** The stack must stop at once, naming the variable, when one the service requires is unset. */
function checkRefusesWithoutRequiredVariables(report: Report): void {
  let required: string[];
  try {
    required = requiredConfigVariables();
  } catch (error) {
    report.fail('docker-compose.yml: refuses to run without the variables src/config/ requires', [messageOf(error)]);
    return;
  }
  for (const name of required) {
    report.check(`docker-compose.yml: refuses to run without ${name}`, () => {
      const compose = requireTool('docker-compose');
      // An empty --env-file: a developer's .env must not supply the variable.
      const result = withTempFile('empty.env', '', (emptyEnvFile) =>
        run(compose, [...COMPOSE, '--env-file', emptyEnvFile, 'config', '-q'], environment(required, name)),
      );
      if (result.ok) return [`compose accepted the file with ${name} unset`];
      return result.output.includes(name) ? [] : [result.output];
    });
  }
}

/** Rules on the file as compose resolves it (anchors merged, variables substituted). */
function resolvedFileProblems(): string[] {
  const result = run(requireTool('docker-compose'), [...COMPOSE, 'config'], environment(requiredConfigVariables()));
  if (!result.ok) return ['docker-compose config failed (see the check above)'];
  const services = recordAt(parseYamlDocuments(result.stdout, 'docker-compose config')[0], 'services');
  const problems: string[] = [];
  for (const [name, service] of Object.entries(services)) {
    if (isRecord(service) && 'build' in service) {
      // The service's own image is built here, from the Dockerfile's runtime stage.
      if (recordAt(service, 'build').target !== 'runtime') problems.push(`${name}: build target is not runtime`);
      continue;
    }
    const image = isRecord(service) && typeof service.image === 'string' ? service.image : '';
    if (!isPinnedImage(image)) problems.push(`${name}: image '${image}' is not pinned to a version`);
  }
  for (const name of SERVICES) if (!(name in services)) problems.push(`service ${name} is missing`);
  const registered = String(recordAt(services['temporal-setup'], 'environment').SEARCH_ATTRIBUTES ?? '').split(/\s+/);
  for (const attribute of workflowSearchAttributes()) {
    if (!registered.includes(cliSpelling(attribute))) {
      problems.push(`temporal-setup does not register search attribute ${cliSpelling(attribute)}`);
    }
  }
  return problems;
}
