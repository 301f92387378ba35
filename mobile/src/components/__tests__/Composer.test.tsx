import { act, fireEvent, render, screen } from '@testing-library/react-native';
import { useState } from 'react';

import { Composer } from '../Composer';

type Props = Partial<Parameters<typeof Composer>[0]>;

function Harness({ generating = false, onSend = jest.fn(), onStop = jest.fn(), ...rest }: Props) {
  const [deepthink, setDeepthink] = useState(false);
  return <Composer onSend={onSend} onStop={onStop} deepthink={deepthink} onToggleDeepthink={setDeepthink} generating={generating} {...rest} />;
}

const input = () => screen.getByLabelText('Message Whale');

describe('Composer', () => {
  it('toggles DeepThink (R1)', () => {
    render(<Harness />);
    const toggle = screen.getByRole('switch', { name: 'DeepThink (R1)' });
    expect(toggle.props.accessibilityState).toMatchObject({ checked: false });
    fireEvent.press(toggle);
    expect(screen.getByRole('switch', { name: 'DeepThink (R1)' }).props.accessibilityState).toMatchObject({ checked: true });
  });

  it('sends the trimmed text with the DeepThink flag and clears the box once accepted', async () => {
    const onSend = jest.fn().mockResolvedValue(true);
    render(<Harness onSend={onSend} />);
    const send = screen.getByRole('button', { name: 'Send message' });
    expect(send.props.accessibilityState).toMatchObject({ disabled: true });

    fireEvent.press(screen.getByRole('switch', { name: 'DeepThink (R1)' }));
    fireEvent.changeText(input(), '  Why is the sky blue?  ');
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Send message' })));
    expect(onSend).toHaveBeenCalledWith('Why is the sky blue?', true);
    expect(input().props.value).toBe('');
  });

  it('gives a refused question back to the user', async () => {
    const onSend = jest.fn().mockResolvedValue(false);
    render(<Harness onSend={onSend} />);
    fireEvent.changeText(input(), 'A question the server refuses');
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Send message' })));
    expect(onSend).toHaveBeenCalledTimes(1);
    expect(input().props.value).toBe('A question the server refuses');
  });

  it('does not send an empty message', () => {
    const onSend = jest.fn();
    render(<Harness onSend={onSend} />);
    fireEvent.changeText(input(), '   ');
    fireEvent.press(screen.getByRole('button', { name: 'Send message' }));
    expect(onSend).not.toHaveBeenCalled();
  });

  it('shows a counter near the length limit and will not send past it', () => {
    const onSend = jest.fn();
    render(<Harness onSend={onSend} maxChars={100} />);
    fireEvent.changeText(input(), 'x'.repeat(79));
    expect(screen.queryByText(/\/ 100$/)).toBeNull();
    fireEvent.changeText(input(), 'x'.repeat(95));
    expect(screen.getByText('95 / 100')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Send message' }).props.accessibilityState).toMatchObject({ disabled: false });

    fireEvent.changeText(input(), 'x'.repeat(103));
    expect(screen.getByText('3 characters over the limit of 100: shorten the message to send it')).toBeTruthy();
    fireEvent.press(screen.getByRole('button', { name: 'Send message' }));
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Send message' }).props.accessibilityState).toMatchObject({ disabled: true });
  });

  it('says on the DeepThink button that the day’s allowance is spent', () => {
    const notice = 'DeepThink limit reached for today, answering with the chat model; resets in 5 h';
    render(<Composer onSend={jest.fn()} onStop={jest.fn()} deepthink onToggleDeepthink={jest.fn()} generating={false} deepthinkNotice={notice} />);
    expect(screen.getByText(notice)).toBeTruthy();
    expect(screen.getByRole('switch', { name: 'DeepThink (R1)' }).props.accessibilityHint).toBe(notice);
  });

  it('turns the send button into stop while answering', () => {
    const onStop = jest.fn();
    render(<Harness generating onStop={onStop} />);
    expect(screen.queryByRole('button', { name: 'Send message' })).toBeNull();
    fireEvent.press(screen.getByRole('button', { name: 'Stop generating' }));
    expect(onStop).toHaveBeenCalledTimes(1);
  });
});
