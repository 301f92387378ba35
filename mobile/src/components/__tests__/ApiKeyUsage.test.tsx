// A key's usage stays folded (and unfetched) until opened, then lists the days it was used, in either language.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen } from '@testing-library/react-native';

import { keysApi } from '@/api/endpoints';
import type { ApiKeyUsageDay } from '@/api/types';
import { usePreferences } from '@/state/preferences';
import { ApiKeyUsage, ApiKeyUsageDays } from '../ApiKeyUsage';

jest.mock('@/api/endpoints', () => ({ keysApi: { usage: jest.fn() } }));

const day = (date: string, fields: Partial<ApiKeyUsageDay> = {}): ApiKeyUsageDay => ({
  date,
  requests: 0,
  prompt_tokens: 0,
  cached_tokens: 0,
  completion_tokens: 0,
  reasoning_tokens: 0,
  errors: 0,
  ...fields,
});

const days = [
  day('2026-12-02'),
  day('2026-12-01', { requests: 1204, prompt_tokens: 250000, cached_tokens: 140000, completion_tokens: 9000, reasoning_tokens: 3000, errors: 2 }),
];

function renderFold() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
  return render(
    <QueryClientProvider client={queryClient}>
      <ApiKeyUsage apiKey={{ id: 'k1', name: 'My bot' }} />
    </QueryClientProvider>,
  );
}

describe('ApiKeyUsage', () => {
  afterEach(() => usePreferences.setState({ language: 'en' }));

  it('fetches the last 30 days only once opened, and shows the days with use', async () => {
    (keysApi.usage as jest.Mock).mockResolvedValue({ data: days });
    renderFold();
    const toggle = screen.getByRole('button', { name: 'Usage of My bot' });
    expect(toggle.props.accessibilityState).toMatchObject({ expanded: false });
    expect(keysApi.usage).not.toHaveBeenCalled();

    fireEvent.press(toggle);

    expect(await screen.findByText('2026-12-01')).toBeTruthy();
    expect(keysApi.usage).toHaveBeenCalledWith('k1', 30);
    expect(screen.queryByText('2026-12-02')).toBeNull();
    expect(screen.getByText('Prompt 250,000 tokens (140,000 cached)')).toBeTruthy();
    expect(screen.getByText('Completion 9,000 tokens (3,000 reasoning)')).toBeTruthy();
    expect(screen.getByText(/1,204 requests/)).toBeTruthy();
    expect(screen.getByText(/2 failed/)).toBeTruthy();
  });

  it('says so when a key was not used', () => {
    render(<ApiKeyUsageDays days={[day('2026-12-02')]} />);
    expect(screen.getByText('Not used in the last 30 days.')).toBeTruthy();
  });

  it('speaks Chinese too', () => {
    usePreferences.setState({ language: 'zh' });
    render(<ApiKeyUsageDays days={days} />);
    expect(screen.getByText('最近 30 天（UTC）')).toBeTruthy();
    expect(screen.getByText('输入 250,000 tokens（缓存命中 140,000）')).toBeTruthy();
  });
});
