// Today's usage and limits (`GET /api/v1/me/usage`), shared by the composer (the message length
// limit, the DeepThink allowance) and the usage panel in Settings.
import { useQuery } from '@tanstack/react-query';

import { meApi } from '@/api/endpoints';
import { queryKeys } from '@/api/queryKeys';
import type { UsageInfo } from '@/api/types';
import { useSession } from './session';

export function useUsage() {
  const signedIn = useSession((s) => s.status === 'signedIn');
  return useQuery({ queryKey: queryKeys.usage(), queryFn: meApi.usage, enabled: signedIn, retry: false, staleTime: 60_000 });
}

/** Hours until the daily counters start again, at least 1. */
export function hoursUntilReset(usage: Pick<UsageInfo, 'resets_at'> | undefined, now: number = Date.now()): number | null {
  const at = usage ? Date.parse(usage.resets_at) : NaN;
  if (Number.isNaN(at)) return null;
  return Math.max(1, Math.round((at - now) / 3_600_000));
}

/** The day's DeepThink allowance is spent and the server answers with the chat model instead. */
export function deepthinkSpent(usage: UsageInfo | undefined): boolean {
  return !!usage && usage.deepthink_fallback && usage.remaining.reasoning_turns_today === 0;
}
