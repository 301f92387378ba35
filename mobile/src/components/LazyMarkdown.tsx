// The answer renderer, loaded on first use: on the web the markdown, maths and highlighting code
// is a bundle of its own that the first screen does not wait for. Until it arrives the text
// shows plain, so nothing is hidden.
import { Suspense, lazy } from 'react';
import { Text } from 'react-native';

import { useTheme } from '@/theme/ThemeProvider';

const Markdown = lazy(() => import('./Markdown'));

function Plain({ text }: { text: string }) {
  const { colors, fontSize } = useTheme();
  return <Text style={{ color: colors.text, fontSize: fontSize.md, lineHeight: 24 }}>{text}</Text>;
}

export function LazyMarkdown({ text }: { text: string }) {
  return (
    <Suspense fallback={<Plain text={text} />}>
      <Markdown text={text} />
    </Suspense>
  );
}
