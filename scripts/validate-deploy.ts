/**
 * Offline validation of the deployment files: docker-compose.yml, Dockerfile, infra/** and
 * skaffold.yaml. Needs no Docker engine, cluster or network; it only calls tools, which
 * `bash scripts/setup.sh --deploy` installs (pinned) beforehand.
 *
 *   npm run validate:deploy                          (npx tsx scripts/validate-deploy.ts)
 *   VALIDATE_DEPLOY_SKAFFOLD=1 npm run validate:deploy   skaffold render is required, not skipped
 *
 * Prints one PASS, FAIL or SKIP line per check; exits non-zero when any check fails.
 */
import { checkCompose } from './validate-deploy/compose';
import { checkDockerfile } from './validate-deploy/dockerfile';
import { checkKubernetes } from './validate-deploy/kubernetes';
import { Report } from './validate-deploy/report';
import { checkServiceConfigs } from './validate-deploy/service-configs';
import { checkShellScripts } from './validate-deploy/shell';
import { checkSkaffold } from './validate-deploy/skaffold';

const report = new Report();
checkCompose(report);
checkServiceConfigs(report);
checkDockerfile(report);
checkKubernetes(report);
checkSkaffold(report);
checkShellScripts(report);
process.exitCode = report.finish() ? 0 : 1;
