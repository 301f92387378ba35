// A question's files as cards: tapping one shows the text Whale read, and offers the original.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, fireEvent, render, screen } from '@testing-library/react-native';
import { File } from 'expo-file-system';
import * as Sharing from 'expo-sharing';

import { filesApi } from '@/api/endpoints';
import type { Message } from '@/api/types';
import { useSession } from '@/state/session';
import { saveResponse } from '@/utils/files';
import { UserMessage } from '../MessageItems';

jest.mock('@/api/endpoints', () => ({ filesApi: { content: jest.fn(), download: jest.fn() } }));
jest.mock('expo-sharing', () => ({ shareAsync: jest.fn(async () => undefined) }));
jest.mock('@/utils/files', () => ({ ...jest.requireActual('@/utils/files'), saveResponse: jest.fn(async () => undefined) }));
// expo-file-system is __mocks__/expo-file-system.ts under Jest: paths are joined, the download is recorded.

const question: Message = {
  id: 'u1',
  parent_id: null,
  role: 'user',
  content: 'What does the report conclude?',
  reasoning_content: '',
  status: 'done',
  created_at: '2026-12-01T10:00:00Z',
  files: [{ id: 'f1', name: 'report.pdf', size: 2_400_000, mime: 'application/pdf', kind: 'pdf', status: 'ready', truncated: true, pages: 120 }],
};

function renderQuestion(message: Message) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <UserMessage message={message} editable={false} />
    </QueryClientProvider>,
  );
}

describe('file cards', () => {
  it('show each file of a question, and open its extracted text and the original', async () => {
    (filesApi.content as jest.Mock).mockResolvedValue({ id: 'f1', name: 'report.pdf', truncated: true, text: 'Revenue grew 12% in 2026.' });
    useSession.getState().setAccessToken('token-1');
    renderQuestion(question);
    expect(screen.getByText('2.3 MB')).toBeTruthy();
    fireEvent.press(screen.getByRole('button', { name: 'Show the text of report.pdf, 2.3 MB' }));
    expect(await screen.findByText('Revenue grew 12% in 2026.')).toBeTruthy();
    expect(filesApi.content).toHaveBeenCalledWith('f1');
    expect(screen.getByText('Only the first part of this file was read.')).toBeTruthy();
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Download original' })));
    // The original's bytes, with the bearer token, into the cache; then the share sheet with that file.
    expect(File.downloadFileAsync).toHaveBeenCalledWith(
      expect.stringMatching(/\/api\/v1\/files\/f1\/download$/),
      expect.objectContaining({ uri: 'file:///cache/downloads/f1/report.pdf' }),
      { headers: { Authorization: 'Bearer token-1' }, idempotent: true },
    );
    expect(Sharing.shareAsync).toHaveBeenCalledWith('file:///cache/downloads/f1/report.pdf', {
      mimeType: 'application/pdf',
      dialogTitle: 'report.pdf',
    });
    expect(saveResponse).not.toHaveBeenCalled(); // not the extracted text
    expect(filesApi.download).not.toHaveBeenCalled();
  });

  it('say so when the text cannot be shown', async () => {
    (filesApi.content as jest.Mock).mockRejectedValue(new Error('gone'));
    renderQuestion(question);
    fireEvent.press(screen.getByRole('button', { name: 'Show the text of report.pdf, 2.3 MB' }));
    expect(await screen.findByText('The text of this file cannot be shown.')).toBeTruthy();
  });

  it('are absent from a question without files (an older server)', () => {
    renderQuestion({ ...question, files: undefined });
    expect(screen.queryByRole('button', { name: /Show the text/ })).toBeNull();
  });

  it('show only the names on the shared page, where the text is not the reader’s', () => {
    const client = new QueryClient();
    render(
      <QueryClientProvider client={client}>
        <UserMessage message={question} editable={false} readOnly />
      </QueryClientProvider>,
    );
    expect(screen.getByText('report.pdf')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Show the text/ })).toBeNull();
  });
});
