// On the web a hidden tab (or a locked screen) closes the turn streams; showing it again resumes
// them from their cursors, without a click.
import type { Transport, TransportHandlers } from '../stream/driver';
import { attachTurn, detachAllTurns, useTurnStreams } from '../stream/turnStreams';

jest.mock('@/api', () => ({ currentAccessToken: async () => 'token', refreshAccessToken: async () => 'fresh' }));

let visibility: DocumentVisibilityState = 'visible';
beforeAll(() => {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
});
function show(state: DocumentVisibilityState) {
  visibility = state;
  document.dispatchEvent(new Event('visibilitychange'));
}

afterEach(() => {
  detachAllTurns();
  visibility = 'visible';
});

it('closes the stream of a hidden tab and resumes it from its cursor when the tab is shown', async () => {
  const opened: { after: string | null; handlers: TransportHandlers; closed: boolean }[] = [];
  const hand: Transport = {
    name: 'hand',
    open: ({ after }, handlers) => {
      const connection = { after, handlers, closed: false };
      opened.push(connection);
      return { close: () => void (connection.closed = true) };
    },
  };
  attachTurn('t1', [hand]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  opened[0]!.handlers.onOpen();
  opened[0]!.handlers.onEvent({ id: '7', type: 'content', data: { delta: 'Blue' } });

  show('hidden');
  expect(opened[0]!.closed).toBe(true);
  expect(useTurnStreams.getState().streams.t1?.status).toBe('background');

  show('visible');
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(opened).toHaveLength(2);
  expect(opened[1]!.after).toBe('7');
  expect(useTurnStreams.getState().streams.t1?.status).toBe('resuming');
});
