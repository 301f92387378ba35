// TeX in answers: markdown-it-texmath finds `$…$`, `\(…\)`, `$$…$$` and `\[…\]` while parsing the
// markdown; MathView typesets what it found (KaTeX on the web, MathJax to SVG on phones).
// Its `$` rule takes no `$` next to a digit or a space inside, so "$5 and $10" stays text, and a
// formula whose closing delimiter has not streamed in yet stays text until it arrives.
import texmath from 'markdown-it-texmath';
import type { MarkdownIt } from 'react-native-markdown-display';

type Parser = ReturnType<typeof MarkdownIt>;

/** The token types texmath adds; each gets a render rule. */
export const INLINE_MATH = ['math_inline', 'math_inline_double'] as const;
export const BLOCK_MATH = ['math_block', 'math_block_eqno'] as const;

// The HTML renderer is never used (react-native-markdown-display renders the tokens), so texmath
// gets an engine that renders nothing; metro.config.js keeps its own `require('katex')` out.
const noEngine = { renderToString: () => '' };

export function withMath(md: Parser): Parser {
  return md.use(texmath, { engine: noEngine, delimiters: ['dollars', 'brackets'] });
}
