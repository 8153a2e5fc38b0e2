import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.tools', '.data', 'coverage', 'test-artifacts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'http', 'net', 'os', 'child_process'],
              message: 'Workflow code must not use Node built-ins.',
            },
            { group: ['../api', '../api/*'], message: 'A lower layer never imports the HTTP edge.' },
            {
              group: [
                '@temporalio/client',
                '@temporalio/worker',
                'nats',
                'kysely',
                'better-sqlite3',
                'pg',
                'express',
                'pino',
              ],
              message: 'Workflow code must stay deterministic: side effects belong in activities.',
            },
          ],
        },
      ],
    },
  },
  {
    // Layers read down, never up: the domain has no I/O and knows no edge; no edge below the API reaches into it.
    files: ['src/orders/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../api/*',
                '../config',
                '../logger',
                '../metrics',
                '../process',
                '../health',
                '../store',
                '../store/*',
                '../events/*',
                '../temporal/*',
                '../activities',
                '../workflows/*',
              ],
              message: 'The order domain imports no edge: the edges import it.',
            },
            {
              group: [
                'node:*',
                '@temporalio/*',
                'nats',
                'kysely',
                'better-sqlite3',
                'pg',
                'express',
                'prom-client',
                'zod',
              ],
              message: 'The order domain does no I/O: persistence, Temporal and the bus sit at the edges.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/*.ts', 'src/store/**/*.ts', 'src/events/**/*.ts', 'src/temporal/**/*.ts', 'src/activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../api', '../api/*', './api', './api/*'],
              message: 'A lower layer never imports the HTTP edge.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
