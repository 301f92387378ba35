// Test-wide mocks for native modules that have no JavaScript implementation under Jest.
jest.mock('@react-native-community/netinfo', () =>
  require('@react-native-community/netinfo/jest/netinfo-mock.js'),
);

// Icons load their font asynchronously, which only adds act() noise in tests; a placeholder is enough.
jest.mock('@expo/vector-icons/Ionicons', () => {
  const React = require('react');
  const { Text } = require('react-native');
  const Icon = () => React.createElement(Text, null, '');
  return { __esModule: true, default: Icon };
});
