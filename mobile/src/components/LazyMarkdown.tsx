// The answer renderer, loaded on first use: on the web the markdown, maths and highlighting code
// is a bundle of its own that the first screen does not wait for. Until it arrives the text
// shows plain, so nothing is hidden.
import { Suspense, lazy } from 'react';
import { Text } from 'react-native';

import { useTheme } from '@/theme/ThemeProvider';
import type { MarkdownProps } from './Markdown';
import { citationsAsText, holdPartialCitation } from './rich/citations';

const Markdown = lazy(() => import('./Markdown'));

function Plain({ text, streaming }: MarkdownProps) {
  const { colors, fontSize } = useTheme();
  // Raw citation markers never show, not even for the moment the renderer takes to load.
  const shown = citationsAsText(streaming ? holdPartialCitation(text) : text);
  return <Text style={{ color: colors.text, fontSize: fontSize.md, lineHeight: 24 }}>{shown}</Text>;
}

export function LazyMarkdown(props: MarkdownProps) {
  return (
    <Suspense fallback={<Plain {...props} />}>
      <Markdown {...props} />
    </Suspense>
  );
}
