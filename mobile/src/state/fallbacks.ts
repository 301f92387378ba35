// Answers that the chat model gave instead of DeepThink (the day's allowance was spent), as the
// send answers said; kept for the session, since the saved message only says `deepthink: false`.
import { create } from 'zustand';

import type { TurnFallback } from '@/api/types';

interface FallbacksState {
  byTurn: Record<string, TurnFallback>;
}

export const useFallbacks = create<FallbacksState>()(() => ({ byTurn: {} }));

export function noteFallback(turnId: string, fallback: TurnFallback | null | undefined): void {
  if (!fallback) return;
  useFallbacks.setState((prev) => ({ byTurn: { ...prev.byTurn, [turnId]: fallback } }));
}
