// TeX typeset on phones by MathJax (mathjax-full, its TeX input and SVG output on the lite DOM
// adaptor) and drawn by react-native-svg: no WebView and no TeX parser of our own.
import { useMemo } from 'react';
import { Text, View } from 'react-native';
import { SvgXml } from 'react-native-svg';
import { liteAdaptor } from 'mathjax-full/js/adaptors/liteAdaptor.js';
import { RegisterHTMLHandler } from 'mathjax-full/js/handlers/html.js';
import { TeX } from 'mathjax-full/js/input/tex.js';
import 'mathjax-full/js/input/tex/ams/AmsConfiguration.js';
import 'mathjax-full/js/input/tex/base/BaseConfiguration.js';
import 'mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js';
import 'mathjax-full/js/input/tex/noundefined/NoUndefinedConfiguration.js';
import { mathjax } from 'mathjax-full/js/mathjax.js';
import { SVG } from 'mathjax-full/js/output/svg.js';

import type { MathViewProps } from './MathView.types';

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const document = mathjax.document('', {
  InputJax: new TeX({ packages: ['base', 'ams', 'newcommand', 'noundefined'] }),
  // Every glyph as its own path: nothing for react-native-svg to resolve across formulas.
  OutputJax: new SVG({ fontCache: 'none' }),
});

export interface TypesetSvg {
  xml: string;
  width: number;
  height: number;
  /** How far below the text's baseline the formula reaches (px), for inline alignment. */
  depth: number;
}

/** TeX to an SVG string sized in pixels for `fontSize`; null when MathJax cannot typeset it. */
export function texToSvg(tex: string, display: boolean, fontSize: number, color: string): TypesetSvg | null {
  try {
    const node = document.convert(tex, { display, em: fontSize, ex: fontSize / 2, containerWidth: 80 * fontSize });
    const svg = adaptor.innerHTML(node);
    const exPx = fontSize / 2;
    const size = (name: string) => Number(new RegExp(`${name}="([\\d.]+)ex"`).exec(svg)?.[1] ?? NaN) * exPx;
    const width = size('width');
    const height = size('height');
    const depth = Number(/vertical-align:\s*(-?[\d.]+)ex/.exec(svg)?.[1] ?? 0) * -exPx;
    if (!Number.isFinite(width) || !Number.isFinite(height)) return null;
    return { xml: svg.replace(/currentColor/g, color), width, height, depth };
  } catch {
    return null;
  }
}

export function MathView({ tex, display, color, fontSize }: MathViewProps) {
  const typeset = useMemo(() => texToSvg(tex, display, fontSize, color), [tex, display, fontSize, color]);
  if (!typeset) {
    return <Text style={{ color, fontSize, fontFamily: 'monospace' }}>{display ? `$$${tex}$$` : `$${tex}$`}</Text>;
  }
  const svg = <SvgXml xml={typeset.xml} width={typeset.width} height={typeset.height} accessibilityLabel={tex} />;
  if (display) {
    return (
      <View testID="math-block" style={{ alignItems: 'center', marginVertical: 6 }}>
        {svg}
      </View>
    );
  }
  return (
    <View testID="math-inline" style={{ transform: [{ translateY: typeset.depth }] }}>
      {svg}
    </View>
  );
}
