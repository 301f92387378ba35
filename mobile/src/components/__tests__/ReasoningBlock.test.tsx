import { act, fireEvent, render, screen } from '@testing-library/react-native';

import { usePreferences } from '@/state/preferences';
import { ReasoningBlock } from '../ReasoningBlock';

describe('ReasoningBlock', () => {
  beforeEach(() => act(() => usePreferences.setState({ reasoningOpen: true })));

  it('shows the reasoning open while thinking', () => {
    render(<ReasoningBlock reasoning="The user asks about the sky." thinking seconds={null} />);
    expect(screen.getByRole('button', { name: 'Thinking…' })).toBeTruthy();
    expect(screen.getByText('The user asks about the sky.')).toBeTruthy();
  });

  it('stays open when the answer finishes: it never folds by itself', () => {
    const { rerender } = render(<ReasoningBlock reasoning="Scattering." thinking seconds={null} />);
    rerender(<ReasoningBlock reasoning="Scattering." thinking={false} seconds={4} />);
    const header = screen.getByRole('button', { name: 'Thought for 4 seconds' });
    expect(header.props.accessibilityState).toMatchObject({ expanded: true });
    expect(screen.getByText('Scattering.')).toBeTruthy();
  });

  it('keeps the state the user chose while thinking, and remembers it for the next answers', () => {
    const { rerender } = render(<ReasoningBlock reasoning="Scattering." thinking seconds={null} />);
    fireEvent.press(screen.getByRole('button', { name: 'Thinking…' }));
    expect(screen.queryByText('Scattering.')).toBeNull();
    rerender(<ReasoningBlock reasoning="Scattering." thinking={false} seconds={4} />);
    expect(screen.queryByText('Scattering.')).toBeNull();
    expect(usePreferences.getState().reasoningOpen).toBe(false);

    render(<ReasoningBlock reasoning="Another answer" thinking={false} seconds={1} />);
    expect(screen.getByRole('button', { name: 'Thought for 1 second' }).props.accessibilityState).toMatchObject({ expanded: false });
    expect(screen.queryByText('Another answer')).toBeNull();
  });

  it('says "Thought process" when the time is unknown, never a dash', () => {
    render(<ReasoningBlock reasoning="Old" thinking={false} seconds={null} />);
    expect(screen.getByRole('button', { name: 'Thought process' })).toBeTruthy();
  });
});
