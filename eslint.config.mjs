import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.venv/**', '.data/**', '.cache/**', 'coverage/**', 'spark/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      // External processes get their arguments as an array, never through a shell.
      'no-restricted-syntax': [
        'error',
        { selector: "Property[key.name='shell'][value.value=true]", message: 'no shell: pass arguments as an array' },
        { selector: "CallExpression[callee.property.name=/^exec(Sync)?$/][callee.object.name=/child_process|cp|childProcess/]", message: 'child_process.exec runs a shell: use execFile/spawn with an argument array' },
      ],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'node:child_process', importNames: ['exec', 'execSync'], message: 'exec runs a shell: use execFile/spawn with an argument array' }, { name: 'child_process', importNames: ['exec', 'execSync'], message: 'exec runs a shell: use execFile/spawn with an argument array' }] },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O,
    // and activities are referenced by type only (proxyActivities builds the calls).
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflow code must not use Node built-ins' })),
          patterns: [
            {
              group: ['**/activities', '**/activities/**', '**/spark/local/**', '**/reporting/**', '**/worker/**', '**/infra/**'],
              allowTypeImports: true,
              message: 'workflow code may import activities and services by type only (import type)',
            },
            { group: ['pino', 'pg', '@temporalio/worker', '@temporalio/client', '@temporalio/activity', '@kubernetes/*'], message: 'not available in the workflow sandbox' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/activities/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@temporalio/workflow', message: 'activities must not import workflow APIs' }] }],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.js', 'test/helpers/*.js', 'test/fixtures/**/*.js', 'jest.config.js', 'bench/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
  {
    files: ['src/cli/**/*.ts', 'demo/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
