module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  rules: {
    // Shared checks are named expect…(): a test that calls one asserts through it.
    'jest/expect-expect': [
      'warn',
      { assertFunctionNames: ['expect', 'expect*'] },
    ],
  },
});
