// `/forgot-password`: reset a forgotten password.
import { RequireGuest } from '@/components/Gates';
import { ForgotPasswordScreen } from '@/screens/AuthScreens';

export default function Route() {
  return (
    <RequireGuest>
      <ForgotPasswordScreen />
    </RequireGuest>
  );
}
