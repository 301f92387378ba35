// The root of every route: providers around a header-less stack.
import { Stack } from 'expo-router';

import { AppProviders } from '@/components/AppProviders';

export default function RootLayout() {
  return (
    <AppProviders>
      <Stack screenOptions={{ headerShown: false, animation: 'none' }} />
    </AppProviders>
  );
}
