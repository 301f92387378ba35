// A fenced code block: its language, a copy button, and the code highlighted by Prism's tokens
// (loaded on first use: its own bundle on the web), scrolling sideways rather than wrapping.
import Ionicons from '@expo/vector-icons/Ionicons';
import * as Clipboard from 'expo-clipboard';
import { useMemo, useState } from 'react';
import { Platform, Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';

import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { tokenColor } from './codeTheme';
import { lazyModule, useLazyModule } from './useLazyModule';

export const MONO = Platform.select({ ios: 'Menlo', android: 'monospace', default: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' });

const highlighter = lazyModule(() => import('./highlight'));

export function CodeBlock({ code, language }: { code: string; language?: string }) {
  const t = useT();
  const { colors, radius, fontSize, scheme } = useTheme();
  const [copied, setCopied] = useState(false);
  const text = code.replace(/\n$/, '');
  const lang = language?.trim().split(/\s+/)[0] ?? '';
  const module = useLazyModule(highlighter);
  const spans = useMemo(() => (module ? module.highlight(text, lang) : null), [module, text, lang]);

  return (
    <View style={[styles.code, { backgroundColor: colors.codeBackground, borderRadius: radius.md, borderColor: colors.border }]}>
      <View style={[styles.codeHeader, { borderBottomColor: colors.border }]}>
        <Text style={[styles.codeLang, { color: colors.textMuted, fontSize: fontSize.xs }]}>{lang || 'text'}</Text>
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
      {/* Focusable, so a keyboard can scroll a long line sideways. */}
      <ScrollView horizontal focusable accessibilityLabel={t('chat.codeRegion', { language: lang || 'text' })} contentContainerStyle={styles.codeScroll}>
        <Text
          selectable
          testID="code-text"
          data-language={spans ? module?.grammarName(lang) ?? undefined : undefined}
          style={{ color: colors.codeText, fontFamily: MONO, fontSize: fontSize.sm, lineHeight: 20 }}
        >
          {spans
            ? spans.map((span, index) => {
                const color = tokenColor(scheme, span.types);
                return color ? (
                  <Text key={index} style={{ color, fontStyle: span.types.includes('comment') ? 'italic' : 'normal' }}>
                    {span.text}
                  </Text>
                ) : (
                  span.text
                );
              })
            : text}
        </Text>
      </ScrollView>
    </View>
  );
}

const styles = StyleSheet.create({
  code: { borderWidth: StyleSheet.hairlineWidth, marginVertical: 8, overflow: 'hidden' },
  codeHeader: { flexDirection: 'row', alignItems: 'center', justifyContent: 'space-between', paddingHorizontal: 12, paddingVertical: 6, borderBottomWidth: StyleSheet.hairlineWidth },
  codeLang: { fontWeight: '600' },
  copy: { flexDirection: 'row', alignItems: 'center', gap: 4, padding: 2 },
  codeScroll: { padding: 12 },
});
