// Lint for the whole monorepo, run once from the root (`npm run lint`). TypeScript is linted with type
// information: each file is checked under the tsconfig.json of its package (sources and tests), found
// by the project service. The packages must be built first, since they import each other's dist/.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['**/dist/', '**/node_modules/', '**/.turbo/', '**/coverage/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `async () => value` is how the code satisfies a Promise-returning signature (handlers, fakes,
      // health checks); what matters about promises is that none floats, which no-floating-promises checks.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a binding kept on purpose: a parameter the signature needs, or a
      // field taken out of an object with a rest pattern (`const { email: _email, ...rest } = user`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests read replies as the JSON a client sees (`http()` bodies are `any` on purpose) and assert on
    // them; typing every reply would restate the contracts the tests exist to check.
    files: ['**/test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Scripts and benchmarks are plain Node ES modules, outside every tsconfig.
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
);
