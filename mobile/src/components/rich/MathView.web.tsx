// TeX typeset by KaTeX as MathML, which browsers draw natively (no stylesheet or fonts to load).
// KaTeX is loaded on first use, so pages without maths never download it.
import { createElement, useMemo } from 'react';
import { Text } from 'react-native';

import type { MathViewProps } from './MathView.types';
import { lazyModule, useLazyModule } from './useLazyModule';

const katexModule = lazyModule(() => import('katex').then((module) => module.default));

export function MathView({ tex, display, color, fontSize }: MathViewProps) {
  const module = useLazyModule(katexModule);
  const html = useMemo(() => {
    if (!module) return null;
    // Bad TeX (or half a formula) is shown as its source in red by KaTeX, never thrown.
    return module.renderToString(tex, { displayMode: display, output: 'mathml', throwOnError: false, strict: 'ignore' });
  }, [module, tex, display]);

  if (html === null) {
    return <Text style={{ color, fontSize, fontFamily: 'monospace' }}>{display ? `$$${tex}$$` : `$${tex}$`}</Text>;
  }
  return createElement(display ? 'div' : 'span', {
    'data-testid': display ? 'math-block' : 'math-inline',
    // A wide formula scrolls sideways: focusable, so a keyboard can scroll it too.
    ...(display ? { tabIndex: 0 } : {}),
    style: { color, fontSize: display ? fontSize * 1.15 : fontSize * 1.05, ...(display ? { overflowX: 'auto', margin: '6px 0', textAlign: 'center' } : {}) },
    dangerouslySetInnerHTML: { __html: html },
  });
}
