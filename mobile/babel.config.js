// Babel for Metro and Jest: Expo's preset, and under Jest dynamic `import()` as `require` (Metro
// splits bundles on it; Node's vm cannot run it without --experimental-vm-modules).
module.exports = function (api) {
  api.cache(true);
  return {
    presets: ['babel-preset-expo'],
    env: { test: { plugins: ['@babel/plugin-transform-dynamic-import'] } },
  };
};
