// Every live turn stream in the app, keyed by turn id, so an answer keeps streaming while the
// user switches chats, and any screen can show it. A row reads its own turn (`useTurnStream`), so
// a batch of tokens re-renders that row only. While the app is in the background the streams are
// closed; when it is back they resume from their cursors.
import { create } from 'zustand';

import { currentAccessToken, refreshAccessToken } from '@/api';
import { apiBaseUrl, isWeb, websocketBaseUrl } from '@/api/config';
import { isAppActive, onAppActivity } from '../appActivity';
import { TurnStreamDriver, type Transport } from './driver';
import { isTerminal, type TurnStreamState } from './machine';
import { sseTransport, websocketTransport } from './transports';

interface TurnStreamsState {
  streams: Record<string, TurnStreamState>;
}

export const useTurnStreams = create<TurnStreamsState>()(() => ({ streams: {} }));

const drivers = new Map<string, TurnStreamDriver>();
type TurnListener = (turnId: string, state: TurnStreamState) => void;
const settledListeners = new Set<TurnListener>();
const restartListeners = new Set<TurnListener>();
let stopWatchingActivity: (() => void) | null = null;

function defaultTransports(): Transport[] {
  return [websocketTransport(() => websocketBaseUrl(apiBaseUrl())), sseTransport(apiBaseUrl, isWeb)];
}

function watchActivity(): void {
  if (stopWatchingActivity) return;
  stopWatchingActivity = onAppActivity((active) => {
    drivers.forEach((driver) => (active ? driver.resume() : driver.background()));
  });
}

/** Starts reading a turn's events unless something already is. */
export function attachTurn(turnId: string, transports: Transport[] = defaultTransports()): void {
  if (drivers.has(turnId)) return;
  watchActivity();
  const driver = new TurnStreamDriver({
    turnId,
    transports,
    getToken: (renew) => (renew ? refreshAccessToken() : currentAccessToken()),
    onChange: (state) => {
      useTurnStreams.setState((prev) => ({ streams: { ...prev.streams, [turnId]: state } }));
      if (isTerminal(state)) settledListeners.forEach((listener) => listener(turnId, state));
    },
    onRestart: () => restartListeners.forEach((listener) => listener(turnId, driver.getState())),
  });
  drivers.set(turnId, driver);
  useTurnStreams.setState((prev) => ({ streams: { ...prev.streams, [turnId]: driver.getState() } }));
  driver.start();
  if (!isAppActive()) driver.background();
}

export function hasTurn(turnId: string): boolean {
  return drivers.has(turnId);
}

export function markCancelRequested(turnId: string): void {
  drivers.get(turnId)?.cancelRequested();
}

/** The stop call was refused: the answer goes on, and Stop is offered again. */
export function markCancelFailed(turnId: string): void {
  drivers.get(turnId)?.cancelFailed();
}

export function retryTurnStream(turnId: string): void {
  drivers.get(turnId)?.retry();
}

/** Stops every stream, e.g. on logout. */
export function detachAllTurns(): void {
  drivers.forEach((driver) => driver.stop());
  drivers.clear();
  stopWatchingActivity?.();
  stopWatchingActivity = null;
  useTurnStreams.setState({ streams: {} });
}

/** A turn's stream ended (done, cancelled, failed, or finished while we were away). */
export function onTurnSettled(listener: TurnListener): () => void {
  settledListeners.add(listener);
  return () => settledListeners.delete(listener);
}

/** A turn's stream started over because the server refused its cursor: the saved message is worth reading. */
export function onTurnRestarted(listener: TurnListener): () => void {
  restartListeners.add(listener);
  return () => restartListeners.delete(listener);
}

/** One turn's live state; re-renders only when that turn changes. */
export function useTurnStream(turnId: string | undefined): TurnStreamState | undefined {
  return useTurnStreams((s) => (turnId ? s.streams[turnId] : undefined));
}
