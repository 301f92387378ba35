// `[citation:X]` in an answer (DeepSeek's search prompt asks the model to cite so): a markdown-it
// inline rule turns each marker into a `citation` token while the markdown is parsed, so a marker
// inside code stays literal, and the renderer draws a numbered chip for it. `[citation:1,3]` is
// two chips. While the answer streams, a marker cut in half at the end is held back.
import type { MarkdownIt } from 'react-native-markdown-display';

type Parser = ReturnType<typeof MarkdownIt>;

interface InlineState {
  src: string;
  pos: number;
  push(type: string, tag: string, nesting: number): { content: string; meta: unknown };
}

const MARKER = /^\[citation:\s*(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\s*\]/i;

export function withCitations(md: Parser): Parser {
  md.inline.ruler.before('link', 'citation', (state: InlineState, silent: boolean) => {
    if (state.src.charCodeAt(state.pos) !== 0x5b /* [ */) return false;
    const match = MARKER.exec(state.src.slice(state.pos));
    if (!match) return false;
    if (!silent) {
      for (const part of (match[1] as string).split(/[,，]/)) {
        const token = state.push('citation', '', 0);
        token.content = part.trim();
        token.meta = { n: Number(part) };
      }
    }
    state.pos += match[0].length;
    return true;
  });
  return md;
}

/** A `[`, `[cit`, `[citation:1` at the very end of streamed text: the rest is on its way. */
const PARTIAL_AT_END = /\[(?:c(?:i(?:t(?:a(?:t(?:i(?:o(?:n(?::[\d\s,，]*)?)?)?)?)?)?)?)?)?$/i;

export function holdPartialCitation(text: string): string {
  return text.replace(PARTIAL_AT_END, '');
}

/** The answer as plain text (copy, the plain fallback): markers become `[1]`. */
export function citationsAsText(text: string): string {
  return text.replace(/\[citation:\s*(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\s*\]/gi, (_m, list: string) =>
    list
      .split(/[,，]/)
      .map((n) => `[${n.trim()}]`)
      .join(''),
  );
}
