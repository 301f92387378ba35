// Babel for Metro and Jest: Expo's preset is all this app needs.
module.exports = function (api) {
  api.cache(true);
  return { presets: ['babel-preset-expo'] };
};
