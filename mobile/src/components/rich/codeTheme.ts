// Colours of highlighted code by Prism token type, for the light and dark code backgrounds
// (each at least 4.5:1 on its background).
import type { ColorScheme } from '@/theme/tokens';

type TokenColors = Record<string, string>;

const light: TokenColors = {
  comment: '#5F6B7A',
  prolog: '#5F6B7A',
  doctype: '#5F6B7A',
  cdata: '#5F6B7A',
  punctuation: '#40464F',
  keyword: '#A626A4',
  'attr-name': '#8A5D00',
  property: '#8A5D00',
  tag: '#C52A1B',
  boolean: '#A34C00',
  number: '#A34C00',
  constant: '#A34C00',
  symbol: '#A34C00',
  selector: '#3B7A0D',
  string: '#3B7A0D',
  char: '#3B7A0D',
  'attr-value': '#3B7A0D',
  builtin: '#A34C00',
  inserted: '#3B7A0D',
  deleted: '#C52A1B',
  operator: '#0E6F80',
  entity: '#0E6F80',
  url: '#0E6F80',
  function: '#2D5BC8',
  'class-name': '#8A5D00',
  regex: '#0E6F80',
  important: '#A626A4',
  variable: '#C52A1B',
  decorator: '#2D5BC8',
};

const dark: TokenColors = {
  comment: '#8D96A3',
  prolog: '#8D96A3',
  doctype: '#8D96A3',
  cdata: '#8D96A3',
  punctuation: '#C9CED6',
  keyword: '#D49BF0',
  'attr-name': '#E5C07B',
  property: '#E5C07B',
  tag: '#F28B82',
  boolean: '#F0A868',
  number: '#F0A868',
  constant: '#F0A868',
  symbol: '#F0A868',
  selector: '#A8D88A',
  string: '#A8D88A',
  char: '#A8D88A',
  'attr-value': '#A8D88A',
  builtin: '#F0A868',
  inserted: '#A8D88A',
  deleted: '#F28B82',
  operator: '#72D0E0',
  entity: '#72D0E0',
  url: '#72D0E0',
  function: '#8EB4FF',
  'class-name': '#E5C07B',
  regex: '#72D0E0',
  important: '#D49BF0',
  variable: '#F28B82',
  decorator: '#8EB4FF',
};

const themes: Record<ColorScheme, TokenColors> = { light, dark };

/** The colour for a span: its innermost token type that has one. */
export function tokenColor(scheme: ColorScheme, types: string[]): string | undefined {
  const colors = themes[scheme];
  for (let i = types.length - 1; i >= 0; i -= 1) {
    const color = colors[types[i] as string];
    if (color) return color;
  }
  return undefined;
}
