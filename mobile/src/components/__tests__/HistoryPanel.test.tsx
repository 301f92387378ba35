// The history's conversations are links into the router's history (Back returns), the open one is
// marked as the current page (not aria-selected, which a link may not have), and Enter renames.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, fireEvent, screen, waitFor } from '@testing-library/react-native';
import { renderRouter } from 'expo-router/testing-library';
import { Text } from 'react-native';

import { conversationsApi } from '@/api/endpoints';
import type { Conversation } from '@/api/types';
import { HistoryPanel } from '../HistoryPanel';

jest.mock('@/api/endpoints', () => ({
  conversationsApi: { list: jest.fn(), update: jest.fn(), remove: jest.fn(), share: jest.fn(), exportFile: jest.fn() },
  sharesApi: { revoke: jest.fn() },
}));

const chat = (id: string, title: string): Conversation => ({
  id,
  title,
  pinned: false,
  archived: false,
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
  current_message_id: null,
  is_generating: false,
});

function setup(activeId: string) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
  const onOpen = jest.fn();
  const Panel = () => (
    <QueryClientProvider client={queryClient}>
      <HistoryPanel activeId={activeId} onOpen={onOpen} onNewChat={jest.fn()} onOpenSettings={jest.fn()} onActiveGone={jest.fn()} />
    </QueryClientProvider>
  );
  const router = renderRouter({ index: Panel, 'c/[id]': () => <Text>conversation screen</Text> }, { initialUrl: '/' });
  return { onOpen, queryClient, router };
}

describe('HistoryPanel', () => {
  beforeEach(() => {
    (conversationsApi.list as jest.Mock).mockResolvedValue({ results: [chat('c1', 'First chat'), chat('c2', 'Second chat')], next: null, previous: null });
  });

  it('lists conversations as links that push onto the history', async () => {
    const { onOpen, queryClient, router } = setup('c1');
    const first = await screen.findByRole('link', { name: 'First chat' });
    expect(first.props['aria-current']).toBe('page');
    expect(first.props['aria-selected']).toBeUndefined();
    expect(screen.getByRole('link', { name: 'Second chat' }).props['aria-current']).toBeUndefined();

    fireEvent.press(screen.getByRole('link', { name: 'Second chat' }));
    expect(onOpen).toHaveBeenCalledWith('c2');
    expect(router.getPathname()).toBe('/c/c2');
    expect(await screen.findByText('conversation screen')).toBeTruthy();
    queryClient.clear();
  });

  it('renames on Enter', async () => {
    (conversationsApi.update as jest.Mock).mockResolvedValue(chat('c1', 'Renamed'));
    const { queryClient } = setup('c1');
    fireEvent.press(await screen.findByRole('button', { name: 'Actions for First chat' }));
    fireEvent.press(screen.getByRole('button', { name: 'Rename' }));
    const field = screen.getByDisplayValue('First chat');
    fireEvent.changeText(field, 'Renamed');
    await act(async () => fireEvent(field, 'submitEditing'));
    await waitFor(() => expect(conversationsApi.update).toHaveBeenCalledWith('c1', { title: 'Renamed' }));
    queryClient.clear();
  });
});
