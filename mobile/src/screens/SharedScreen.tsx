// A shared conversation, read-only and without an account (`/share/<token>`).
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'expo-router';
import { ActivityIndicator, FlatList, StyleSheet, Text, View } from 'react-native';
import { SafeAreaView } from 'react-native-safe-area-context';

import { sharesApi } from '@/api/endpoints';
import { isApiError } from '@/api/errors';
import { queryKeys } from '@/api/queryKeys';
import { describeError } from '@/components/Banners';
import { Button } from '@/components/Button';
import { AssistantMessage, UserMessage } from '@/components/MessageItems';
import { useT } from '@/locale';
import { answerView } from '@/state/stream/view';
import { useTheme } from '@/theme/ThemeProvider';
import { CONTENT_MAX_WIDTH } from '@/theme/tokens';

export function SharedScreen({ token }: { token: string }) {
  const t = useT();
  const router = useRouter();
  const { colors, fontSize } = useTheme();
  const shared = useQuery({ queryKey: queryKeys.shared(token), queryFn: () => sharesApi.getShared(token), retry: false });

  return (
    <SafeAreaView style={[styles.root, { backgroundColor: colors.background }]}>
      <View role="main" style={styles.root}>
      <View style={[styles.header, { borderBottomColor: colors.border }]}>
        <Text accessibilityRole="header" numberOfLines={1} style={{ color: colors.text, fontSize: fontSize.lg, fontWeight: '700' }}>
          {shared.data?.title ?? t('app.name')}
        </Text>
        <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('share.readonly')}</Text>
      </View>
      {shared.isLoading ? (
        <ActivityIndicator style={styles.center} color={colors.accent} />
      ) : shared.isError ? (
        <View style={styles.center}>
          <Text style={{ color: colors.textMuted, fontSize: fontSize.md }}>
            {isApiError(shared.error) && shared.error.isNotFound ? t('share.notFound') : describeError(shared.error, t)}
          </Text>
        </View>
      ) : (
        <FlatList
          data={shared.data?.messages ?? []}
          keyExtractor={(m, index) => m.id ?? `${index}`}
          contentContainerStyle={styles.list}
          renderItem={({ item }) =>
            item.role === 'user' ? (
              <UserMessage message={item} editable={false} readOnly />
            ) : (
              <AssistantMessage message={item} view={answerView(item, undefined)} readOnly />
            )
          }
          ListFooterComponent={<Button label={t('share.openApp')} variant="ghost" onPress={() => router.replace('/')} />}
        />
      )}
      </View>
    </SafeAreaView>
  );
}

const styles = StyleSheet.create({
  root: { flex: 1 },
  header: { padding: 16, gap: 4, borderBottomWidth: StyleSheet.hairlineWidth, alignItems: 'center' },
  center: { flex: 1, alignItems: 'center', justifyContent: 'center', padding: 24 },
  list: { width: '100%', maxWidth: CONTENT_MAX_WIDTH, alignSelf: 'center', padding: 16 },
});
