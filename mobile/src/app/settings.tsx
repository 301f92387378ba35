// `/settings`: account, appearance, language, usage, API keys, about.
import { RequireAuth } from '@/components/Gates';
import { SettingsScreen } from '@/screens/SettingsScreen';

export default function SettingsRoute() {
  return (
    <RequireAuth>
      <SettingsScreen />
    </RequireAuth>
  );
}
