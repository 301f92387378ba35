// `/verify`: enter the 6-digit code from the sign-up email.
import { RequireAuth } from '@/components/Gates';
import { VerifyScreen } from '@/screens/AuthScreens';

export default function VerifyRoute() {
  return (
    <RequireAuth verified={false}>
      <VerifyScreen />
    </RequireAuth>
  );
}
