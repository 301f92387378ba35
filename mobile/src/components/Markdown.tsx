// Renders an answer's markdown the same way on phones and the web, with copyable code blocks.
import Ionicons from '@expo/vector-icons/Ionicons';
import * as Clipboard from 'expo-clipboard';
import { memo, useMemo, useState } from 'react';
import { Platform, Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';
import MarkdownDisplay, { MarkdownIt, type ASTNode, type RenderRules } from 'react-native-markdown-display';

import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';

const markdownIt = MarkdownIt({ typographer: false, linkify: true });
const MONO = Platform.select({ ios: 'Menlo', android: 'monospace', default: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' });

export function CodeBlock({ code, language }: { code: string; language?: string }) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  const [copied, setCopied] = useState(false);
  const text = code.replace(/\n$/, '');
  return (
    <View style={[styles.code, { backgroundColor: colors.codeBackground, borderRadius: radius.md, borderColor: colors.border }]}>
      <View style={[styles.codeHeader, { borderBottomColor: colors.border }]}>
        <Text style={[styles.codeLang, { color: colors.textMuted, fontSize: fontSize.xs }]}>{language || 'text'}</Text>
        <Pressable
          accessibilityRole="button"
          accessibilityLabel={t('chat.copyCode')}
          onPress={async () => {
            await Clipboard.setStringAsync(text);
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          }}
          style={styles.copy}
        >
          <Ionicons name={copied ? 'checkmark' : 'copy-outline'} size={14} color={colors.textMuted} />
          <Text style={{ color: colors.textMuted, fontSize: fontSize.xs }}>{copied ? t('common.copied') : t('common.copy')}</Text>
        </Pressable>
      </View>
      <ScrollView horizontal contentContainerStyle={styles.codeScroll}>
        <Text selectable style={{ color: colors.codeText, fontFamily: MONO, fontSize: fontSize.sm, lineHeight: 20 }}>
          {text}
        </Text>
      </ScrollView>
    </View>
  );
}

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const theme = useTheme();
  const { colors, fontSize, radius } = theme;

  const rules = useMemo<RenderRules>(
    () => ({
      fence: (node: ASTNode) => (
        <CodeBlock key={node.key} code={node.content} language={(node as ASTNode & { sourceInfo?: string }).sourceInfo} />
      ),
      code_block: (node: ASTNode) => <CodeBlock key={node.key} code={node.content} />,
    }),
    [],
  );

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
    <MarkdownDisplay markdownit={markdownIt} rules={rules} style={style}>
      {text}
    </MarkdownDisplay>
  );
});

const styles = StyleSheet.create({
  code: { borderWidth: StyleSheet.hairlineWidth, marginVertical: 8, overflow: 'hidden' },
  codeHeader: { flexDirection: 'row', alignItems: 'center', justifyContent: 'space-between', paddingHorizontal: 12, paddingVertical: 6, borderBottomWidth: StyleSheet.hairlineWidth },
  codeLang: { fontWeight: '600' },
  copy: { flexDirection: 'row', alignItems: 'center', gap: 4, padding: 2 },
  codeScroll: { padding: 12 },
});
