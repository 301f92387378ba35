// `/share/<token>`: a shared conversation, no account needed.
import { useLocalSearchParams } from 'expo-router';

import { SharedScreen } from '@/screens/SharedScreen';

export default function SharedRoute() {
  const { token } = useLocalSearchParams<{ token: string }>();
  return <SharedScreen token={token} />;
}
