import { fireEvent, render, screen } from '@testing-library/react-native';

import { ReasoningBlock } from '../ReasoningBlock';

describe('ReasoningBlock', () => {
  it('shows the reasoning open while thinking', () => {
    render(<ReasoningBlock reasoning="The user asks about the sky." thinking seconds={null} />);
    expect(screen.getByRole('button', { name: 'Thinking…' })).toBeTruthy();
    expect(screen.getByText('The user asks about the sky.')).toBeTruthy();
  });

  it('folds to "Thought for N seconds" when the answer starts, and reopens on press', () => {
    const { rerender } = render(<ReasoningBlock reasoning="Scattering." thinking seconds={null} />);
    rerender(<ReasoningBlock reasoning="Scattering." thinking={false} seconds={4} />);
    const header = screen.getByRole('button', { name: 'Thought for 4 seconds' });
    expect(screen.queryByText('Scattering.')).toBeNull();
    expect(header.props.accessibilityState).toMatchObject({ expanded: false });

    fireEvent.press(header);
    expect(screen.getByText('Scattering.')).toBeTruthy();
    fireEvent.press(screen.getByRole('button', { name: 'Thought for 4 seconds' }));
    expect(screen.queryByText('Scattering.')).toBeNull();
  });

  it('starts folded for an answer that finished before it was shown', () => {
    render(<ReasoningBlock reasoning="Old reasoning" thinking={false} seconds={1} />);
    expect(screen.getByRole('button', { name: 'Thought for 1 second' })).toBeTruthy();
    expect(screen.queryByText('Old reasoning')).toBeNull();
  });
});
