import { render, screen } from '@testing-library/react-native';

import type { UsageInfo } from '@/api/types';
import { usePreferences } from '@/state/preferences';
import { UsagePanel } from '../SettingsScreen';

const usage: UsageInfo = {
  tier: 'free',
  date: '2026-12-01',
  resets_at: new Date(Date.now() + 5 * 3600 * 1000).toISOString(),
  limits: {
    requests_per_minute: 20,
    turns_per_day: 200,
    reasoning_turns_per_day: 50,
    tokens_per_day: 200000,
    concurrent_turns: 1,
    max_message_chars: 8000,
    max_context_tokens: null,
  },
  usage: { requests_this_minute: 1, turns_today: 12, reasoning_turns_today: 50, tokens_today: 5321, in_flight: 0 },
  remaining: { reasoning_turns_today: 0 },
  deepthink_fallback: true,
};

describe('UsagePanel', () => {
  afterEach(() => { usePreferences.setState({ language: 'en' }); });

  it('reads as a table of limits with bars, not raw fields', () => {
    usePreferences.setState({ language: 'en' });
    render(<UsagePanel usage={usage} />);
    expect(screen.getByText('Plan: Free')).toBeTruthy();
    expect(screen.getByText('Daily limits reset in 5 h')).toBeTruthy();
    expect(screen.getByText('Messages today')).toBeTruthy();
    expect(screen.getByText('12 of 200')).toBeTruthy();
    expect(screen.getByText('5,321 of 200,000')).toBeTruthy();
    expect(screen.getByLabelText('DeepThink messages today: 50 of 50')).toBeTruthy();
    expect(screen.getByText('A message can have up to 8,000 characters.')).toBeTruthy();
    expect(screen.queryByText(/resets_at|turns_today|T\d\d:\d\d/)).toBeNull();
  });

  it('speaks Chinese too', () => {
    usePreferences.setState({ language: 'zh' });
    render(<UsagePanel usage={usage} />);
    expect(screen.getByText('套餐：免费版')).toBeTruthy();
    expect(screen.getByText('今日消息')).toBeTruthy();
    expect(screen.getByText('每日额度将在 5 小时 后重置')).toBeTruthy();
  });
});
