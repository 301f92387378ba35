import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { ApiError } from '@/api/errors';
import { LoginForm } from '../LoginForm';

describe('LoginForm', () => {
  it('asks for an email and a password before calling the server', () => {
    const onSubmit = jest.fn();
    render(<LoginForm mode="login" onSubmit={onSubmit} />);
    fireEvent.press(screen.getByRole('button', { name: 'Log in' }));
    expect(screen.getByText('Enter your email address.')).toBeTruthy();
    expect(screen.getByText('Enter your password.')).toBeTruthy();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('rejects a malformed email', () => {
    const onSubmit = jest.fn();
    render(<LoginForm mode="login" onSubmit={onSubmit} />);
    fireEvent.changeText(screen.getByLabelText('Email'), 'not-an-email');
    fireEvent.changeText(screen.getByLabelText('Password'), 'secret123');
    fireEvent.press(screen.getByRole('button', { name: 'Log in' }));
    expect(screen.getByText('Enter a valid email address.')).toBeTruthy();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('requires 8 characters for a new password', () => {
    render(<LoginForm mode="signup" onSubmit={jest.fn()} />);
    fireEvent.changeText(screen.getByLabelText('Email'), 'ada@example.com');
    fireEvent.changeText(screen.getByLabelText('Password'), 'short');
    fireEvent.press(screen.getByRole('button', { name: 'Sign up' }));
    expect(screen.getByText('Use at least 8 characters.')).toBeTruthy();
  });

  it('submits valid values and shows the server refusal', async () => {
    const onSubmit = jest.fn().mockRejectedValue(new ApiError({ status: 401, code: 'invalid_credentials', message: 'Wrong email or password.' }));
    render(<LoginForm mode="login" onSubmit={onSubmit} />);
    fireEvent.changeText(screen.getByLabelText('Email'), 'ada@example.com');
    fireEvent.changeText(screen.getByLabelText('Password'), 'correct horse');
    fireEvent.press(screen.getByRole('button', { name: 'Log in' }));
    expect(onSubmit).toHaveBeenCalledWith({ email: 'ada@example.com', password: 'correct horse', displayName: '' });
    await waitFor(() => expect(screen.getByText('Wrong email or password.')).toBeTruthy());
  });

  it('puts server field errors under their inputs', async () => {
    const onSubmit = jest.fn().mockRejectedValue(
      new ApiError({ status: 400, code: 'invalid', message: 'Some fields are invalid.', fields: { email: ['This email is taken.'] } }),
    );
    render(<LoginForm mode="signup" onSubmit={onSubmit} />);
    fireEvent.changeText(screen.getByLabelText('Email'), 'ada@example.com');
    fireEvent.changeText(screen.getByLabelText('Password'), 'long enough');
    fireEvent.press(screen.getByRole('button', { name: 'Sign up' }));
    await waitFor(() => expect(screen.getByText('This email is taken.')).toBeTruthy());
  });
});
