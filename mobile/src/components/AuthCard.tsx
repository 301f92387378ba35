// The frame of the signed-out screens: logo, title and a narrow card, centred.
import type { ReactNode } from 'react';
import { KeyboardAvoidingView, Platform, ScrollView, StyleSheet, Text, View } from 'react-native';
import { SafeAreaView } from 'react-native-safe-area-context';

import { useTheme } from '@/theme/ThemeProvider';

export function AuthCard({ title, subtitle, children }: { title: string; subtitle?: string; children: ReactNode }) {
  const { colors, fontSize } = useTheme();
  return (
    <SafeAreaView style={[styles.root, { backgroundColor: colors.background }]}>
      <KeyboardAvoidingView style={styles.root} behavior={Platform.OS === 'ios' ? 'padding' : undefined}>
        <ScrollView contentContainerStyle={styles.scroll} keyboardShouldPersistTaps="handled">
          <View role="main" style={styles.card}>
            <View style={styles.brand}>
              <View style={[styles.logo, { backgroundColor: colors.accent }]}>
                <Text style={{ color: colors.onAccent, fontSize: 24, fontWeight: '800' }}>W</Text>
              </View>
              <Text style={{ color: colors.accentText, fontSize: fontSize.xl, fontWeight: '800' }}>whale</Text>
            </View>
            <Text accessibilityRole="header" style={[styles.title, { color: colors.text, fontSize: fontSize.xl }]}>
              {title}
            </Text>
            {subtitle ? <Text style={{ color: colors.textMuted, fontSize: fontSize.md, textAlign: 'center' }}>{subtitle}</Text> : null}
            <View style={styles.body}>{children}</View>
          </View>
        </ScrollView>
      </KeyboardAvoidingView>
    </SafeAreaView>
  );
}

const styles = StyleSheet.create({
  root: { flex: 1 },
  scroll: { flexGrow: 1, alignItems: 'center', justifyContent: 'center', padding: 24 },
  card: { width: '100%', maxWidth: 400, gap: 10 },
  brand: { flexDirection: 'row', alignItems: 'center', justifyContent: 'center', gap: 10, marginBottom: 16 },
  logo: { width: 44, height: 44, borderRadius: 22, alignItems: 'center', justifyContent: 'center' },
  title: { fontWeight: '700', textAlign: 'center' },
  body: { gap: 14, marginTop: 16 },
});
