import { fireEvent, render, screen } from '@testing-library/react-native';
import { useState } from 'react';

import { Composer } from '../Composer';

function Harness({ generating = false, onSend = jest.fn(), onStop = jest.fn() }: { generating?: boolean; onSend?: jest.Mock; onStop?: jest.Mock }) {
  const [deepthink, setDeepthink] = useState(false);
  return <Composer onSend={onSend} onStop={onStop} deepthink={deepthink} onToggleDeepthink={setDeepthink} generating={generating} />;
}

describe('Composer', () => {
  it('toggles DeepThink (R1)', () => {
    render(<Harness />);
    const toggle = screen.getByRole('switch', { name: 'DeepThink (R1)' });
    expect(toggle.props.accessibilityState).toMatchObject({ checked: false });
    fireEvent.press(toggle);
    expect(screen.getByRole('switch', { name: 'DeepThink (R1)' }).props.accessibilityState).toMatchObject({ checked: true });
  });

  it('sends the trimmed text with the DeepThink flag and clears the box', () => {
    const onSend = jest.fn();
    render(<Harness onSend={onSend} />);
    const send = screen.getByRole('button', { name: 'Send message' });
    expect(send.props.accessibilityState).toMatchObject({ disabled: true });

    fireEvent.press(screen.getByRole('switch', { name: 'DeepThink (R1)' }));
    fireEvent.changeText(screen.getByLabelText('Message Whale'), '  Why is the sky blue?  ');
    fireEvent.press(screen.getByRole('button', { name: 'Send message' }));
    expect(onSend).toHaveBeenCalledWith('Why is the sky blue?', true);
    expect(screen.getByLabelText('Message Whale').props.value).toBe('');
  });

  it('does not send an empty message', () => {
    const onSend = jest.fn();
    render(<Harness onSend={onSend} />);
    fireEvent.changeText(screen.getByLabelText('Message Whale'), '   ');
    fireEvent.press(screen.getByRole('button', { name: 'Send message' }));
    expect(onSend).not.toHaveBeenCalled();
  });

  it('turns the send button into stop while answering', () => {
    const onStop = jest.fn();
    render(<Harness generating onStop={onStop} />);
    expect(screen.queryByRole('button', { name: 'Send message' })).toBeNull();
    fireEvent.press(screen.getByRole('button', { name: 'Stop generating' }));
    expect(onStop).toHaveBeenCalledTimes(1);
  });
});
