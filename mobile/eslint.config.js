// ESLint 9 flat config: Expo's rules plus the few this project adds.
const { defineConfig } = require('eslint/config');
const expoConfig = require('eslint-config-expo/flat');

module.exports = defineConfig([
  expoConfig,
  {
    ignores: ['dist/*', 'node_modules/*', '.expo/*', 'coverage/*'],
  },
  {
    files: ['e2e/**/*.mjs', 'scripts/**/*.mjs', 'jest.setup.js', 'metro.config.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', jest: 'readonly' },
    },
  },
]);
