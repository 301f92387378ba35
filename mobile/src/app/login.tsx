// `/login`: log in.
import { RequireGuest } from '@/components/Gates';
import { LoginScreen } from '@/screens/AuthScreens';

export default function Route() {
  return (
    <RequireGuest>
      <LoginScreen />
    </RequireGuest>
  );
}
