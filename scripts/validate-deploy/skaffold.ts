/** skaffold.yaml: its JSON schema, skaffold's own offline render, then the project's rules. */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { glob, isRecord, listAt, readText, readYaml, readYamlDocuments, recordAt } from './files';
import type { Report } from './report';
import { findTool, problemsOf, requireTool, run, SETUP_COMMAND, versionOf, withVersion } from './tools';

/** The config version skaffold.yaml is written in. */
const API_VERSION = 'skaffold/v4beta14';
const SKAFFOLD_MODULE = 'github.com/GoogleContainerTools/skaffold/v2';
const PROFILES = ['', 'prod'];
/** Rendering is required (not skipped without skaffold) when CI asks for it. */
const renderRequired = process.env.VALIDATE_DEPLOY_SKAFFOLD === '1';

export function checkSkaffold(report: Report): void {
  const version = versionOf('skaffold', ['version'], (output) => output.trim());
  const skaffold = withVersion('skaffold', version);
  report.check(`skaffold.yaml: JSON schema of ${API_VERSION} (${skaffold} module)`, () => schemaProblems(version));
  if (findTool('skaffold') || renderRequired) {
    for (const profile of PROFILES) {
      const name = `skaffold.yaml: ${skaffold} render --offline${profile && ` -p ${profile}`}`;
      report.check(name, () => renderProblems(profile));
    }
  } else {
    report.skip(`skaffold render: no skaffold binary (\`${SETUP_COMMAND}\` builds it into .tools/bin)`);
  }
  report.check(`skaffold.yaml: ${API_VERSION}, manifests, Dockerfile target, port-forward`, configProblems);
}

/**
 * The schema comes from the Go module of the skaffold that renders, so that both judge alike. go
 * reads it from its module cache, where the set-up left it (GOPROXY=off: this program downloads nothing).
 */
function schemaProblems(version: string): string[] {
  requireTool('skaffold');
  if (!version) return ['`skaffold version` failed'];
  const download = run(requireTool('go'), ['mod', 'download', '-json', `${SKAFFOLD_MODULE}@${version}`], {
    GOPROXY: 'off',
    GOFLAGS: '-mod=mod',
  });
  if (!download.ok) return [`${SKAFFOLD_MODULE}@${version} is not in Go's module cache (run \`${SETUP_COMMAND}\`)`];
  const moduleDir = String((JSON.parse(download.stdout) as Record<string, unknown>).Dir);
  const schemaFile = path.join(moduleDir, 'docs-v2/content/en/schemas', `${API_VERSION.replace('skaffold/', '')}.json`);
  if (!fs.existsSync(schemaFile)) return [`skaffold ${version} has no schema for ${API_VERSION}`];
  // strict: false, the schemas carry editor hints (preferredOrder, x-intellij-html-description)
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as object);
  return validate(readYaml('skaffold.yaml')) ? [] : describeSchemaErrors(validate.errors ?? []);
}

/** skaffold itself reads the config and the manifests it names, offline: no cluster, no registry. */
function renderProblems(profile: string): string[] {
  const args = ['render', '--offline=true', '--digest-source=none', '--update-check=false', '--output=/dev/null'];
  if (profile) args.push('-p', profile);
  return problemsOf(run(requireTool('skaffold'), args, { SKAFFOLD_UPDATE_CHECK: 'false' }));
}

/** One line per error; anyOf's summary is left out, its branches' own errors say what is wrong. */
function describeSchemaErrors(errors: readonly ErrorObject[]): string[] {
  const specific = errors.filter((error) => error.keyword !== 'anyOf' && error.keyword !== 'oneOf');
  const lines = (specific.length > 0 ? specific : errors).map((error) => {
    const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
    return `${error.instancePath.slice(1) || '(root)'} : ${error.message ?? error.keyword}${extra}`.slice(0, 300);
  });
  return [...new Set(lines)];
}

/** The default config and each profile, each checked against the files it names. */
function configProblems(): string[] {
  const config = readYaml('skaffold.yaml');
  const problems: string[] = [];
  const apiVersion = isRecord(config) ? config.apiVersion : undefined;
  if (apiVersion !== API_VERSION) problems.push(`apiVersion is '${String(apiVersion)}', expected '${API_VERSION}'`);
  const services = new Set(
    glob('infra/k8s/**/*.yaml')
      .flatMap((file) => readYamlDocuments(file))
      .filter((document) => isRecord(document) && document.kind === 'Service')
      .map((service) => String(recordAt(service, 'metadata').name)),
  );
  const dockerfile = readText('Dockerfile');
  for (const section of [config, ...listAt(config, 'profiles')]) {
    const where = isRecord(section) && typeof section.name === 'string' ? section.name : 'default';
    for (const pattern of listAt(recordAt(section, 'manifests'), 'rawYaml')) {
      if (glob(String(pattern)).length === 0) problems.push(`${where}: rawYaml '${String(pattern)}' matches no file`);
    }
    for (const artifact of listAt(recordAt(section, 'build'), 'artifacts')) {
      const target = recordAt(artifact, 'docker').target;
      if (typeof target === 'string' && target && !hasStage(dockerfile, target)) {
        problems.push(`${where}: Dockerfile has no stage '${target}'`);
      }
    }
    for (const forward of listAt(section, 'portForward').filter(isRecord)) {
      if (forward.resourceType === 'service' && !services.has(String(forward.resourceName))) {
        problems.push(`${where}: port-forward to unknown service '${String(forward.resourceName)}'`);
      }
    }
  }
  return problems;
}

const hasStage = (dockerfile: string, stage: string): boolean =>
  new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${stage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'im').test(dockerfile);
