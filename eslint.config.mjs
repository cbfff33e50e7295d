import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_APP_IMPORTS = {
  regex: '(^|/)apps/',
  message: 'apps and libs never import an app: move what is shared into a lib.',
};

/** `no-restricted-imports` for `files`: no app, and the folder rule `pattern`. */
function boundaries(files, pattern) {
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: [NO_APP_IMPORTS, pattern] }] } };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'apps/relay/src/dashboard/static/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: false } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  // Boundaries (docs/architecture.md): apps never import apps, libs never import apps, a library is imported
  // through its `@app/<name>` alias (never a relative path out of its folder), and a feature folder of an app
  // does not reach into another one: what two features share lives in a lib.
  boundaries(['apps/**/*.ts', 'libs/**/*.ts'], {
    regex: '^(\\.\\./){2,}',
    message: 'Import another lib or feature through its @app/<name> alias, not a relative path out of this folder.',
  }),
  boundaries(['apps/*/src/*/*.ts'], {
    regex: '^\\.\\./',
    message: 'A feature folder does not import another one: what two features share lives in a lib.',
  }),
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'libs/testing/**/*.ts', '**/*.spec.ts'],
    rules: { 'no-console': 'off' },
  },
);
