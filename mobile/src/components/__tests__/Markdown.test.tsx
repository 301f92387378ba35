// The answer renderer on phones (jest's native platform): TeX through MathJax to SVG, code
// highlighted by Prism's tokens, and what must stay text (prices, a formula still streaming).
import { render, screen, waitFor } from '@testing-library/react-native';

import { Markdown } from '../Markdown';
import { texToSvg } from '../rich/MathView';

describe('Markdown on phones', () => {
  it('typesets inline and display TeX in all four delimiters', async () => {
    render(<Markdown text={'Euler: $e^{i\\pi} + 1 = 0$ and \\(a^2\\).\n\n$$\\int_0^1 x\\,dx = \\frac{1}{2}$$\n\n\\[\\sum_{n=1}^\\infty \\frac{1}{n^2}\\]'} />);
    await waitFor(() => expect(screen.getAllByTestId('math-inline')).toHaveLength(2));
    expect(screen.getAllByTestId('math-block')).toHaveLength(2);
    expect(screen.getByLabelText('e^{i\\pi} + 1 = 0')).toBeTruthy();
  });

  it('leaves prices alone', () => {
    render(<Markdown text="It costs $5 and $10 with tax." />);
    expect(screen.queryByTestId('math-inline')).toBeNull();
    expect(screen.getByText(/It costs \$5 and \$10 with tax\./)).toBeTruthy();
  });

  it('shows a formula whose end has not streamed in yet as text, and typesets it once it has', () => {
    const { rerender } = render(<Markdown text="So $x^2 + " />);
    expect(screen.queryByTestId('math-inline')).toBeNull();
    expect(screen.getByText(/So \$x\^2 \+/)).toBeTruthy();
    rerender(<Markdown text="So $x^2 + y^2$" />);
    expect(screen.getByTestId('math-inline')).toBeTruthy();
  });

  it('highlights a code block by its language', async () => {
    render(<Markdown text={'```python\ndef area(r):\n    return 3.14 * r ** 2  # circle\n```'} />);
    const code = screen.getByTestId('code-text');
    await waitFor(() => expect(screen.getByText('def')).toBeTruthy());
    expect(screen.getByText('def').props.style).toMatchObject({ color: '#A626A4' });
    expect(screen.getByText('# circle').props.style).toMatchObject({ fontStyle: 'italic' });
    expect(code).toBeTruthy();
    expect(screen.getByText('python')).toBeTruthy();
  });

  it('shows an unknown language plain', async () => {
    render(<Markdown text={'```klingon\nqapla\n```'} />);
    await waitFor(() => expect(screen.getByText('qapla')).toBeTruthy());
  });

  it('turns TeX into an SVG sized for the font, and bad TeX into no crash', () => {
    const svg = texToSvg('\\frac{a}{b}', true, 16, '#123456');
    expect(svg?.xml).toMatch(/^<svg/);
    expect(svg?.xml).toContain('#123456');
    expect(svg?.width).toBeGreaterThan(0);
    expect(() => texToSvg('\\frac{', false, 16, '#000')).not.toThrow();
  });
});
