// `/`: a new chat.
import { RequireAuth } from '@/components/Gates';
import { ChatScreen } from '@/screens/ChatScreen';

export default function NewChatRoute() {
  return (
    <RequireAuth>
      <ChatScreen />
    </RequireAuth>
  );
}
