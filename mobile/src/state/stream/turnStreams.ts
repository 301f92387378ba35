// Every live turn stream in the app, keyed by turn id, so an answer keeps streaming while the
// user switches chats, and any screen can show it.
import { create } from 'zustand';

import { currentAccessToken, refreshAccessToken } from '@/api';
import { apiBaseUrl, isWeb, websocketBaseUrl } from '@/api/config';
import { TurnStreamDriver, type Transport } from './driver';
import { isTerminal, type TurnStreamState } from './machine';
import { sseTransport, websocketTransport } from './transports';

interface TurnStreamsState {
  streams: Record<string, TurnStreamState>;
}

export const useTurnStreams = create<TurnStreamsState>()(() => ({ streams: {} }));

const drivers = new Map<string, TurnStreamDriver>();
type SettledListener = (turnId: string, state: TurnStreamState) => void;
const settledListeners = new Set<SettledListener>();

function defaultTransports(): Transport[] {
  return [websocketTransport(() => websocketBaseUrl(apiBaseUrl())), sseTransport(apiBaseUrl, isWeb)];
}

/** Starts reading a turn's events unless something already is. */
export function attachTurn(turnId: string, transports: Transport[] = defaultTransports()): void {
  if (drivers.has(turnId)) return;
  const driver = new TurnStreamDriver({
    turnId,
    transports,
    getToken: (renew) => (renew ? refreshAccessToken() : currentAccessToken()),
    onChange: (state) => {
      useTurnStreams.setState((prev) => ({ streams: { ...prev.streams, [turnId]: state } }));
      if (isTerminal(state)) settledListeners.forEach((listener) => listener(turnId, state));
    },
  });
  drivers.set(turnId, driver);
  useTurnStreams.setState((prev) => ({ streams: { ...prev.streams, [turnId]: driver.getState() } }));
  driver.start();
}

export function hasTurn(turnId: string): boolean {
  return drivers.has(turnId);
}

export function markCancelRequested(turnId: string): void {
  drivers.get(turnId)?.cancelRequested();
}

export function retryTurnStream(turnId: string): void {
  drivers.get(turnId)?.retry();
}

/** Stops every stream, e.g. on logout. */
export function detachAllTurns(): void {
  drivers.forEach((driver) => driver.stop());
  drivers.clear();
  useTurnStreams.setState({ streams: {} });
}

export function onTurnSettled(listener: SettledListener): () => void {
  settledListeners.add(listener);
  return () => settledListeners.delete(listener);
}

export function useTurnStream(turnId: string | undefined): TurnStreamState | undefined {
  return useTurnStreams((s) => (turnId ? s.streams[turnId] : undefined));
}
