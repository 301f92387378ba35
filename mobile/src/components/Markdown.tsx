// Renders an answer's markdown the same way on phones and the web: TeX formulas, highlighted
// code blocks with a copy button, tables, citation chips. On the web this module is its own bundle (see
// LazyMarkdown), so the login and empty-chat screens do not download it.
import { memo, useMemo } from 'react';
import { StyleSheet } from 'react-native';
import MarkdownDisplay, { MarkdownIt, type ASTNode, type RenderRules } from 'react-native-markdown-display';

import type { Source } from '@/api/types';
import { useTheme } from '@/theme/ThemeProvider';
import { Citation, CitationProvider } from './rich/Citation';
import { holdPartialCitation, withCitations } from './rich/citations';
import { CodeBlock, MONO } from './rich/CodeBlock';
import { BLOCK_MATH, INLINE_MATH, withMath } from './rich/math';
import { MathView } from './rich/MathView';

const markdownIt = withCitations(withMath(MarkdownIt({ typographer: false, linkify: true })));

export interface MarkdownProps {
  text: string;
  /** What `[citation:X]` markers point at (an answer that searched). */
  sources?: Source[];
  /** Still arriving: a citation marker cut off at the end waits for the rest. */
  streaming?: boolean;
}

const NO_SOURCES: Source[] = [];

export { CodeBlock };

export const Markdown = memo(function Markdown({ text, sources = NO_SOURCES, streaming }: MarkdownProps) {
  const theme = useTheme();
  const { colors, fontSize, radius } = theme;

  const rules = useMemo<RenderRules>(() => {
    const math: RenderRules = {};
    for (const type of INLINE_MATH) {
      math[type] = (node: ASTNode) => <MathView key={node.key} tex={node.content} display={false} color={colors.text} fontSize={fontSize.md} />;
    }
    for (const type of BLOCK_MATH) {
      math[type] = (node: ASTNode) => <MathView key={node.key} tex={node.content} display color={colors.text} fontSize={fontSize.md} />;
    }
    return {
      ...math,
      fence: (node: ASTNode) => (
        <CodeBlock key={node.key} code={node.content} language={(node as ASTNode & { sourceInfo?: string }).sourceInfo} />
      ),
      code_block: (node: ASTNode) => <CodeBlock key={node.key} code={node.content} />,
      citation: (node: ASTNode) => <Citation key={node.key} n={Number(node.content)} />,
    };
  }, [colors.text, fontSize.md]);

  const style = useMemo(
    () =>
      StyleSheet.create({
        body: { color: colors.text, fontSize: fontSize.md, lineHeight: 24 },
        paragraph: { marginTop: 0, marginBottom: 10 },
        heading1: { fontSize: 22, fontWeight: '700', marginVertical: 8, color: colors.text },
        heading2: { fontSize: 19, fontWeight: '700', marginVertical: 8, color: colors.text },
        heading3: { fontSize: 17, fontWeight: '700', marginVertical: 6, color: colors.text },
        strong: { fontWeight: '700' },
        link: { color: colors.accentText, textDecorationLine: 'underline' },
        blockquote: { backgroundColor: colors.surface, borderLeftColor: colors.border, borderLeftWidth: 3, paddingHorizontal: 10, marginVertical: 6 },
        code_inline: {
          backgroundColor: colors.codeBackground,
          color: colors.codeText,
          fontFamily: MONO,
          fontSize: fontSize.sm,
          borderRadius: 4,
          paddingHorizontal: 4,
          borderWidth: 0,
        },
        bullet_list: { marginBottom: 8 },
        ordered_list: { marginBottom: 8 },
        list_item: { marginVertical: 2 },
        table: { borderColor: colors.border, borderWidth: 1, borderRadius: radius.sm, marginVertical: 8 },
        thead: { backgroundColor: colors.surface },
        th: { padding: 8, borderColor: colors.border },
        tr: { borderColor: colors.border, borderBottomWidth: 1 },
        td: { padding: 8, borderColor: colors.border },
        hr: { backgroundColor: colors.border, height: 1, marginVertical: 10 },
      }),
    [colors, fontSize, radius],
  );

  return (
    <CitationProvider sources={sources}>
      <MarkdownDisplay markdownit={markdownIt} rules={rules} style={style}>
        {streaming ? holdPartialCitation(text) : text}
      </MarkdownDisplay>
    </CitationProvider>
  );
});

export default Markdown;
