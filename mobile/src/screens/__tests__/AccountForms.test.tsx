// Refusals said once and where they belong: a wrong reset code on its field (not also above the
// form), a wrong password on account deletion on the password field.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { authApi, keysApi, meApi, modelsApi } from '@/api/endpoints';
import { ApiError } from '@/api/errors';
import { useSession } from '@/state/session';
import { ForgotPasswordScreen } from '../AuthScreens';
import { SettingsScreen } from '../SettingsScreen';

jest.mock('expo-router', () => ({ useRouter: () => ({ replace: jest.fn(), push: jest.fn(), back: jest.fn(), canGoBack: () => false }) }));
jest.mock('@/api/endpoints', () => ({
  authApi: { requestPasswordReset: jest.fn(), confirmPasswordReset: jest.fn() },
  meApi: { usage: jest.fn(), delete: jest.fn(), exportData: jest.fn() },
  keysApi: { list: jest.fn(), create: jest.fn(), revoke: jest.fn() },
  modelsApi: { list: jest.fn() },
  resultsOf: (value: { results?: unknown[] } | undefined) => value?.results ?? [],
}));

const clients: QueryClient[] = [];
afterEach(() => clients.splice(0).forEach((client) => client.clear()));
function withQueries(ui: React.ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
  clients.push(client);
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

describe('ForgotPasswordScreen', () => {
  it('shows a wrong code once, on the code field', async () => {
    (authApi.requestPasswordReset as jest.Mock).mockResolvedValue(undefined);
    (authApi.confirmPasswordReset as jest.Mock).mockRejectedValue(
      new ApiError({ status: 400, code: 'invalid_code', message: 'The code is not correct.', fields: { code: ['The code is not correct.'] } }),
    );
    render(<ForgotPasswordScreen />);
    fireEvent.changeText(screen.getByLabelText('Email'), 'ada@example.com');
    fireEvent.press(screen.getByRole('button', { name: 'Send code' }));
    await screen.findByLabelText('Code from the email');
    fireEvent.changeText(screen.getByLabelText('Code from the email'), '123456');
    fireEvent.changeText(screen.getByLabelText('New password'), 'a new password');
    fireEvent.press(screen.getByRole('button', { name: 'Set new password' }));
    await waitFor(() => expect(screen.getAllByText('The code is not correct.')).toHaveLength(1));
  });
});

describe('SettingsScreen', () => {
  beforeEach(() => {
    useSession.getState().signIn({ id: 'u', email: 'ada@example.com', display_name: '', email_verified: true }, 'token');
    (meApi.usage as jest.Mock).mockRejectedValue(new ApiError({ status: 404, code: 'not_found', message: '' }));
    (keysApi.list as jest.Mock).mockResolvedValue({ results: [] });
    (modelsApi.list as jest.Mock).mockResolvedValue({ data: [] });
  });

  it('says a wrong password on the password field when deleting the account', async () => {
    (meApi.delete as jest.Mock).mockRejectedValue(
      new ApiError({ status: 400, code: 'wrong_password', message: 'Some fields are invalid.', fields: { password: ['The password is not correct.'] } }),
    );
    withQueries(<SettingsScreen />);
    fireEvent.press(screen.getByRole('button', { name: 'Delete account' }));
    fireEvent.changeText(screen.getByLabelText('Password'), 'wrong one');
    fireEvent.press(screen.getByRole('button', { name: 'Delete' }));
    await screen.findByText('The password is not correct.');
    expect(screen.queryByText('Some fields are invalid.')).toBeNull();
    expect(meApi.delete).toHaveBeenCalledWith('wrong one');
  });
});
