/** infra/k8s: kubernetes-validate against the API schemas (proven strict), then the workloads' rules. */
import { filesUnder, isRecord, listAt, readYamlDocuments, recordAt, withTempFile } from './files';
import { isPinnedImage } from './images';
import { messageOf, type Report } from './report';
import { requireTool, run, versionOf, withVersion, type RunResult } from './tools';

/** The Kubernetes release whose API schemas the manifests are checked against. */
const KUBERNETES_VERSION = '1.37.0';
const MANIFESTS_DIR = 'infra/k8s';
/** kubernetes-validate's line for each resource that passed */
const PASSED = ' passed for resource ';
const WORKLOADS = ['orders-api', 'orders-worker', 'nats', 'orders-postgres'];
/** Built and tagged by skaffold, so it carries no tag in the manifests. */
const OWN_IMAGE = 'orders-lifecycle';
/** The service's own processes, which serve /healthz (liveness) and /readyz (readiness). */
const OWN_PROCESSES = ['orders-api', 'orders-worker'];

/** An unknown field (terminationGracePeriodSecs) and a wrong type (containerPort "3000"). */
const BROKEN_MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata: { name: broken }
spec:
  selector: { matchLabels: { app: broken } }
  template:
    metadata: { labels: { app: broken } }
    spec:
      terminationGracePeriodSecs: 60
      containers: [{ name: broken, image: broken:1, ports: [{ containerPort: "3000" }] }]
`;

const manifestFiles = (): string[] => filesUnder(MANIFESTS_DIR).filter((file) => /\.ya?ml$/.test(file));

export function checkKubernetes(report: Report): void {
  const files = manifestFiles();
  checkAgainstApiSchemas(report, files);
  // The validator must really be strict: a wrong type and an unknown field have to fail.
  report.check('kubernetes-validate self-test: rejects a broken manifest', () =>
    withTempFile('broken.yaml', BROKEN_MANIFEST, (file) => validate(['--quiet', file]).ok)
      ? ['a manifest with an unknown field and a wrong type passed']
      : [],
  );
  report.check(`${MANIFESTS_DIR}: images pinned, probes, resources, non-root, grace period`, () =>
    workloadProblems(files),
  );
}

const validate = (args: readonly string[]): RunResult =>
  run(requireTool('kubernetes-validate'), ['--strict', '-k', KUBERNETES_VERSION, ...args]);

/** Its PASS line counts the resources validated, so it reports by hand rather than through check(). */
function checkAgainstApiSchemas(report: Report, files: readonly string[]): void {
  const version = versionOf('kubernetes-validate', ['--version'], (output) => output.trim());
  const name = `${MANIFESTS_DIR}: ${withVersion('kubernetes-validate', version)} --strict, Kubernetes ${KUBERNETES_VERSION}`;
  if (files.length === 0) return report.fail(name, ['no manifests found']);
  let result: RunResult;
  try {
    result = validate(files);
  } catch (error) {
    return report.fail(name, [messageOf(error)]);
  }
  const lines = result.output.split('\n');
  if (!result.ok) return report.fail(name, [lines.filter((line) => !line.includes(PASSED)).join('\n')]);
  const resources = lines.filter((line) => line.includes(PASSED)).length;
  report.pass(`${name}: ${resources} resources in ${files.length} files`);
}

interface Workload {
  file: string;
  name: string;
  pod: Record<string, unknown>;
  containers: Record<string, unknown>[];
}

function findWorkloads(files: readonly string[]): Map<string, Workload> {
  const workloads = new Map<string, Workload>();
  for (const file of files) {
    for (const document of readYamlDocuments(file)) {
      if (!isRecord(document) || (document.kind !== 'Deployment' && document.kind !== 'StatefulSet')) continue;
      const name = String(recordAt(document, 'metadata').name);
      const pod = recordAt(recordAt(recordAt(document, 'spec'), 'template'), 'spec');
      workloads.set(name, { file, name, pod, containers: listAt(pod, 'containers').filter(isRecord) });
    }
  }
  return workloads;
}

function workloadProblems(files: readonly string[]): string[] {
  const workloads = findWorkloads(files);
  const problems = WORKLOADS.filter((name) => !workloads.has(name)).map((name) => `workload ${name} is missing`);
  for (const { file, name, pod, containers } of workloads.values()) {
    if (!recordAt(pod, 'securityContext').runAsNonRoot) problems.push(`${file}: ${name}: runAsNonRoot is not set`);
    if (!pod.terminationGracePeriodSeconds) problems.push(`${file}: ${name}: terminationGracePeriodSeconds is not set`);
    for (const container of containers) {
      const where = `${file}: ${name}/${String(container.name)}`;
      const image = String(container.image);
      if (image !== OWN_IMAGE && !isPinnedImage(image)) problems.push(`${where}: image '${image}' is not pinned`);
      for (const probe of ['livenessProbe', 'readinessProbe']) {
        if (!(probe in container)) problems.push(`${where}: no ${probe}`);
      }
      if (!('requests' in recordAt(container, 'resources'))) problems.push(`${where}: no resource requests`);
      if (recordAt(container, 'securityContext').allowPrivilegeEscalation !== false) {
        problems.push(`${where}: allowPrivilegeEscalation is not false`);
      }
    }
  }
  for (const name of OWN_PROCESSES) {
    const container = workloads.get(name)?.containers[0];
    if (!container) continue;
    const paths = ['livenessProbe', 'readinessProbe']
      .map((probe) => recordAt(recordAt(container, probe), 'httpGet').path)
      .filter((probePath): probePath is string => typeof probePath === 'string');
    const distinct = [...new Set(paths)].sort();
    if (distinct.join(' ') !== '/healthz /readyz') {
      problems.push(
        `${name}: probes should use /healthz (liveness) and /readyz (readiness), not ${JSON.stringify(distinct)}`,
      );
    }
  }
  return problems;
}
