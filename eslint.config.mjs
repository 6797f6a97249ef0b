import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Packages' compiled internals (`@temporalio/common/lib/...`) are not their API: they move between patch releases. */
const noDeepImports = {
  regex: '^(@[^/]+/)?[^./][^/]*/lib(/|$)',
  message: "A package's lib/ is its internals, not its API: import from the package's entry point.",
};

/** Product code reaches the local stack only through the Azure SDKs over HTTPS, never by import. */
const noLocalImports = {
  group: ['**/local/*', '**/local'],
  message:
    'Product code (activities, workflows, common, worker, client) never imports the local stack: it imitates Azure.',
};

/** `it.only` / `describe.skip` and friends: a focused test silently skips the others, a skipped one hides. */
const focusedOrSkipped = ['it', 'test', 'describe'].flatMap((object) =>
  ['only', 'skip'].map((property) => ({
    object,
    property,
    message: `${object}.${property} must not be committed: every test runs in CI.`,
  }))
);

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.local/',
      'coverage/',
      'lib/',
      'dist/',
      'reports/',
      '.stryker-tmp/',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Forgetting to await activities and workflow APIs is a silent bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'object-shorthand': 'error',
      'no-restricted-imports': ['error', { patterns: [noDeepImports] }],
      // Off on purpose: an `async` function without `await` is how an implementation of an async interface
      // (activities, ARM and emulator handlers, CLI commands) turns a synchronous throw into a rejected promise.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox, and common/ is imported by it: no Node built-ins, no I/O.
    files: ['workflows/**/*.ts', 'common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code (and common/, which it imports) must be deterministic: no Node built-ins.',
          })),
          patterns: [noDeepImports, noLocalImports],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts', 'worker/**/*.ts', 'client/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noDeepImports, noLocalImports] }] },
  },
  {
    // Replay patches are registered in one place (workflows/patches.ts), with what each guards and when it can go.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/patches.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportSpecifier[imported.name=/^(patched|deprecatePatch)$/]',
          message: 'Use isPatched() from workflows/patches.ts, where every patch id is registered.',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // jest's asymmetric matchers (expect.any, expect.objectContaining, ...) are typed `any`: assigning one into an
      // expected object is how they are meant to be used.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      'no-restricted-properties': ['error', ...focusedOrSkipped],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.name=/^(fit|fdescribe|xit|xtest|xdescribe)$/]',
          message: 'Focused (f…) or skipped (x…) tests must not be committed: every test runs in CI.',
        },
        {
          selector:
            'CallExpression[callee.type="MemberExpression"][callee.property.name=/^(only|skip)$/][callee.object.type="CallExpression"][callee.object.callee.property.name="each"]',
          message: '.each(...).only / .skip must not be committed: every test runs in CI.',
        },
      ],
    },
  }
);
