// Route guards: signed-in screens send guests to log in, and unverified users to the code screen.
import { Redirect } from 'expo-router';
import type { ReactNode } from 'react';
import { ActivityIndicator, View } from 'react-native';

import { useSession } from '@/state/session';
import { useTheme } from '@/theme/ThemeProvider';

function Splash() {
  const { colors } = useTheme();
  return (
    <View role="main" aria-busy style={{ flex: 1, alignItems: 'center', justifyContent: 'center', backgroundColor: colors.background }}>
      <ActivityIndicator color={colors.accent} size="large" />
    </View>
  );
}

export function RequireAuth({ children, verified = true }: { children: ReactNode; verified?: boolean }) {
  const status = useSession((s) => s.status);
  const user = useSession((s) => s.user);
  if (status === 'booting') return <Splash />;
  if (status === 'signedOut' || !user) return <Redirect href="/login" />;
  if (verified && !user.email_verified) return <Redirect href="/verify" />;
  return <>{children}</>;
}

export function RequireGuest({ children }: { children: ReactNode }) {
  const status = useSession((s) => s.status);
  const user = useSession((s) => s.user);
  if (status === 'booting') return <Splash />;
  if (status === 'signedIn' && user) return <Redirect href={user.email_verified ? '/' : '/verify'} />;
  return <>{children}</>;
}
