// Metro: Expo's defaults, plus one rule. markdown-it-texmath falls back to `require('katex')` for
// its HTML renderer, which this app never uses (it renders the tokens itself); without the rule
// KaTeX would land in the first bundle instead of loading only when an answer has maths.
const { getDefaultConfig } = require('expo/metro-config');

const config = getDefaultConfig(__dirname);
const resolveRequest = config.resolver.resolveRequest;

config.resolver.resolveRequest = (context, moduleName, platform) => {
  if (moduleName === 'katex' && context.originModulePath.includes('markdown-it-texmath')) {
    return { type: 'empty' };
  }
  return (resolveRequest ?? context.resolveRequest)(context, moduleName, platform);
};

module.exports = config;
