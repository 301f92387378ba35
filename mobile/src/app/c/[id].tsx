// `/c/<id>`: one conversation.
import { useLocalSearchParams } from 'expo-router';

import { RequireAuth } from '@/components/Gates';
import { ChatScreen } from '@/screens/ChatScreen';

export default function ConversationRoute() {
  const { id } = useLocalSearchParams<{ id: string }>();
  return (
    <RequireAuth>
      <ChatScreen key={id} conversationId={id} />
    </RequireAuth>
  );
}
