// `/signup`: sign up.
import { RequireGuest } from '@/components/Gates';
import { SignupScreen } from '@/screens/AuthScreens';

export default function Route() {
  return (
    <RequireGuest>
      <SignupScreen />
    </RequireGuest>
  );
}
