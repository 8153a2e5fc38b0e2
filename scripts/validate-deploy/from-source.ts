/**
 * What the deployment files must agree with, read from the service's own code instead of a copy
 * kept here: renaming a variable or a search attribute in src/ moves these checks along with it.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { SearchAttributes } from '../../src/workflows/shared';

/** The variables the config module refuses to start without: those an empty environment lacks. */
export function requiredConfigVariables(): string[] {
  try {
    loadConfig({});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // ConfigError lists one `  - NAME: reason` line per invalid variable.
    const names = [...error.message.matchAll(/^\s*- ([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!);
    if (names.length === 0) throw new Error(`src/config/: no variable names in its error: ${error.message}`);
    return [...new Set(names)];
  }
  return [];
}

/** Any value will do where only the shape of the configuration matters. */
export const PLACEHOLDER = 'validate-only';

/**
 * Where the worker loads its prebuilt workflow bundle from under an environment such as a Dockerfile
 * stage's; undefined when it would bundle the workflows at start. Throws ConfigError when the
 * environment is not a valid configuration.
 */
export function workflowBundleUnder(environment: Readonly<Record<string, string>>): string | undefined {
  const required = Object.fromEntries(requiredConfigVariables().map((name) => [name, PLACEHOLDER]));
  // A Temporal profile file that does not exist: a developer's own profile (certificate paths of
  // their machine) must not take part. Temporal's envconfig name, not one of src/config/.
  const noProfileFile = { TEMPORAL_CONFIG_FILE: path.join(os.tmpdir(), 'validate-deploy-no-such-dir', 'none.toml') };
  return loadConfig({ ...required, ...noProfileFile, ...environment }).workflowBundle;
}

export interface SearchAttribute {
  name: string;
  /** Temporal's type name, e.g. KEYWORD or KEYWORD_LIST */
  type: string;
}

/** The custom search attributes the order workflow sets. */
export const workflowSearchAttributes = (): SearchAttribute[] =>
  Object.values(SearchAttributes).map(({ name, type }) => ({ name, type }));

/** `OrderId:Keyword`, the temporal CLI's spelling: KEYWORD_LIST is KeywordList. */
export const cliSpelling = ({ name, type }: SearchAttribute): string =>
  `${name}:${type
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}`;
