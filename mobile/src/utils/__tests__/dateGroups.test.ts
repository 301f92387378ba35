import { dateGroupOf, groupByDate } from '../dateGroups';

const now = new Date(2026, 10, 28, 15, 0, 0); // 28 Nov 2026, 15:00 local
const daysAgo = (days: number, hour = 12) => new Date(2026, 10, 28 - days, hour, 0, 0).toISOString();

describe('date grouping', () => {
  it('uses calendar days, not 24-hour windows', () => {
    expect(dateGroupOf(new Date(2026, 10, 28, 0, 5).toISOString(), now)).toBe('today');
    expect(dateGroupOf(new Date(2026, 10, 27, 23, 55).toISOString(), now)).toBe('yesterday');
  });

  it('puts each age in its bucket', () => {
    expect(dateGroupOf(daysAgo(0), now)).toBe('today');
    expect(dateGroupOf(daysAgo(1), now)).toBe('yesterday');
    expect(dateGroupOf(daysAgo(2), now)).toBe('previous7');
    expect(dateGroupOf(daysAgo(6), now)).toBe('previous7');
    expect(dateGroupOf(daysAgo(7), now)).toBe('previous30');
    expect(dateGroupOf(daysAgo(29), now)).toBe('previous30');
    expect(dateGroupOf(daysAgo(30), now)).toBe('older');
    expect(dateGroupOf('not a date', now)).toBe('older');
  });

  it('treats a clock slightly ahead of the device as today', () => {
    expect(dateGroupOf(new Date(now.getTime() + 60_000).toISOString(), now)).toBe('today');
  });

  it('orders groups, keeps server order within them, and lifts pinned chats to the top', () => {
    const items = [
      { id: 'a', updated_at: daysAgo(0) },
      { id: 'b', updated_at: daysAgo(0, 9) },
      { id: 'c', updated_at: daysAgo(1) },
      { id: 'd', updated_at: daysAgo(40), pinned: true },
      { id: 'e', updated_at: daysAgo(12) },
    ];
    const groups = groupByDate(items, now);
    expect(groups.map((g) => g.group)).toEqual(['pinned', 'today', 'yesterday', 'previous30']);
    expect(groups[1]?.items.map((i) => i.id)).toEqual(['a', 'b']);
    expect(groups[0]?.items.map((i) => i.id)).toEqual(['d']);
  });
});
