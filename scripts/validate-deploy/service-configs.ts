/** The configuration files the compose stack and the Kubernetes manifests hand to NATS and Temporal. */
import { glob, isRecord, readYaml, readYamlDocuments, recordAt, withTempFile } from './files';
import type { Report } from './report';
import { lastWord, problemsOf, requireTool, run, versionOf } from './tools';

const COMPOSE_NATS_CONFIG = 'infra/compose/nats/nats-server.conf';
const K8S_NATS_MANIFEST = 'infra/k8s/nats.yaml';
const DYNAMIC_CONFIGS = 'infra/compose/temporal/dynamicconfig/*.yaml';

export function checkServiceConfigs(report: Report): void {
  const version = versionOf('nats-server', ['--version'], lastWord);
  report.check(`${COMPOSE_NATS_CONFIG}: nats-server -t${version && ` (${version})`}`, () =>
    problemsOf(run(requireTool('nats-server'), ['-t', '-c', COMPOSE_NATS_CONFIG])),
  );
  report.check(`${K8S_NATS_MANIFEST} ConfigMap nats.conf: nats-server -t`, kubernetesNatsConfigProblems);
  report.check(`${DYNAMIC_CONFIGS}: well-formed YAML`, dynamicConfigProblems);
}

/** The server's config lives inside a ConfigMap: nats-server tests it from a file of its own. */
function kubernetesNatsConfigProblems(): string[] {
  const natsServer = requireTool('nats-server');
  const config = readYamlDocuments(K8S_NATS_MANIFEST)
    .filter((document) => isRecord(document) && document.kind === 'ConfigMap')
    .map((configMap) => recordAt(configMap, 'data')['nats.conf'])
    .find((text): text is string => typeof text === 'string' && text !== '');
  if (config === undefined) return ['no ConfigMap with data.nats.conf found'];
  return withTempFile('nats.conf', config, (file) => problemsOf(run(natsServer, ['-t', '-c', file])));
}

/** Temporal's dynamic config: every key holds a list of { value, constraints } entries. */
function dynamicConfigProblems(): string[] {
  const files = glob(DYNAMIC_CONFIGS);
  if (files.length === 0) return ['no dynamic config files'];
  const problems: string[] = [];
  for (const file of files) {
    const document = readYaml(file);
    if (!isRecord(document)) {
      problems.push(`${file}: not a mapping`);
      continue;
    }
    for (const [key, values] of Object.entries(document)) {
      if (!Array.isArray(values) || !values.every((entry) => isRecord(entry) && 'value' in entry)) {
        problems.push(`${file}: ${key} needs a list of {value, constraints}`);
      }
    }
  }
  return problems;
}
