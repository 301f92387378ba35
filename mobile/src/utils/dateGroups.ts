// Groups conversations the way DeepSeek's history does: Pinned, Today, Yesterday, 7 days, 30 days, Older.
import type { MessageKey } from '@/locale/en';

export type DateGroup = 'pinned' | 'today' | 'yesterday' | 'previous7' | 'previous30' | 'older';

export const DATE_GROUP_ORDER: DateGroup[] = ['pinned', 'today', 'yesterday', 'previous7', 'previous30', 'older'];

export const DATE_GROUP_LABEL: Record<DateGroup, MessageKey> = {
  pinned: 'history.pinned',
  today: 'history.today',
  yesterday: 'history.yesterday',
  previous7: 'history.previous7',
  previous30: 'history.previous30',
  older: 'history.older',
};

const DAY_MS = 24 * 60 * 60 * 1000;

function startOfLocalDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** Which group a timestamp falls in, by calendar days in the device's time zone. */
export function dateGroupOf(timestamp: string | Date, now: Date = new Date()): DateGroup {
  const date = typeof timestamp === 'string' ? new Date(timestamp) : timestamp;
  if (Number.isNaN(date.getTime())) return 'older';
  const days = Math.round((startOfLocalDay(now) - startOfLocalDay(date)) / DAY_MS);
  if (days <= 0) return 'today';
  if (days === 1) return 'yesterday';
  if (days < 7) return 'previous7';
  if (days < 30) return 'previous30';
  return 'older';
}

export interface Grouped<T> {
  group: DateGroup;
  items: T[];
}

/** Keeps the server's order inside each group; pinned items come first, whatever their date. */
export function groupByDate<T extends { updated_at: string; pinned?: boolean }>(
  items: T[],
  now: Date = new Date(),
): Grouped<T>[] {
  const buckets = new Map<DateGroup, T[]>();
  for (const item of items) {
    const group = item.pinned ? 'pinned' : dateGroupOf(item.updated_at, now);
    const bucket = buckets.get(group) ?? [];
    bucket.push(item);
    buckets.set(group, bucket);
  }
  return DATE_GROUP_ORDER.filter((group) => buckets.has(group)).map((group) => ({
    group,
    items: buckets.get(group) ?? [],
  }));
}
