// Lint: correctness basics plus the layering rules of ARCHITECTURE.md (import boundaries per layer).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioLibraries = [
  'lowdb',
  'lowdb/*',
  'ws',
  'p-queue',
  'vscode-languageserver',
  'vscode-languageserver/*',
  'vscode-jsonrpc',
  'vscode-jsonrpc/*',
  '@opencode-ai/*',
  '@agentclientprotocol/*',
  '@modelcontextprotocol/*',
  'pg',
  'pg-boss',
];
const restrict = (patterns) => ['error', { patterns }];
const group = (names, message) => ({ group: names, message });

export default tseslint.config(
  { ignores: ['dist/**', 'dist-vsix/**', 'node_modules/**', '.tsbuild/**', 'test-results/**', '**/*.d.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only (style.md §16).' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'No export namespace (style.md §16).' },
      ],
      'max-lines': ['error', { max: 800, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['protocol/**/*.ts'],
    ignores: ['protocol/**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([
        group(
          ['vscode', '**/extension/src/**', '**/server/src/**', '**/webview/src/**', 'node:*', ...ioLibraries],
          'protocol/ imports only zod and itself.',
        ),
      ]),
    },
  },
  {
    files: ['server/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        group(
          ['vscode', '**/extension/src/**', '**/webview/src/**', 'vscode-languageclient', 'vscode-languageclient/*'],
          'The server never imports vscode, the extension or the webviews.',
        ),
      ]),
    },
  },
  {
    files: ['server/src/domain/**/*.ts'],
    ignores: ['server/src/domain/**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([
        group(['vscode', '**/extension/src/**', '**/webview/src/**'], 'The server never imports vscode, the extension or the webviews.'),
        group(
          [
            'node:*',
            'fs',
            'path',
            'os',
            'child_process',
            'http',
            'net',
            'crypto',
            ...ioLibraries,
            '**/adapters/**',
            '**/services/**',
            '**/handlers/**',
            '**/ports/**',
          ],
          'domain/ is pure: no node:*, no I/O library, no outer layer.',
        ),
      ]),
    },
  },
  {
    files: ['server/src/services/**/*.ts'],
    ignores: ['server/src/services/**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([
        group(['vscode', '**/extension/src/**', '**/webview/src/**'], 'The server never imports vscode, the extension or the webviews.'),
        group(['**/adapters/**', '**/handlers/**', ...ioLibraries], 'services/ reach the outside only through ports/.'),
      ]),
    },
  },
  {
    files: ['extension/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        group(
          ['**/server/src/**', '**/webview/src/**', 'vscode-languageserver', 'vscode-languageserver/*'],
          'The extension talks to the server only through protocol/.',
        ),
      ]),
    },
  },
  {
    files: ['webview/src/**/*.ts'],
    ignores: ['webview/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict([
        group(
          ['vscode', 'node:*', 'fs', 'path', '**/extension/src/**', '**/server/src/**', ...ioLibraries],
          'Webviews reach VS Code only through the host messenger.',
        ),
      ]),
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        require: 'readonly',
        __dirname: 'readonly',
        module: 'readonly',
        window: 'readonly',
        document: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
