// The answer renderer on phones (jest's native platform): TeX through MathJax to SVG, code
// highlighted by Prism's tokens, and what must stay text (prices, a formula still streaming).
import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import { Linking } from 'react-native';

import type { Source } from '@/api/types';

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

  describe('citations', () => {
    const sources: Source[] = [
      { n: 1, title: 'Rayleigh scattering', url: 'https://en.wikipedia.org/wiki/Rayleigh_scattering', site: 'Wikipedia', snippet: 'Light scatters off particles.' },
      { n: 2, title: 'Why is the sky blue?', url: 'https://example.org/sky', site: 'example.org' },
    ];

    it('draws each [citation:X] as a numbered chip, never as the raw marker', () => {
      render(<Markdown text="Short waves scatter more[citation:1][citation:2]. Both agree [citation:1, 2]." sources={sources} />);
      expect(screen.getAllByRole('link', { name: 'Source 1: Rayleigh scattering' })).toHaveLength(2);
      expect(screen.getAllByRole('link', { name: 'Source 2: Why is the sky blue?' })).toHaveLength(2);
      expect(screen.queryByText(/citation:/)).toBeNull();
    });

    it('opens a sheet with the source on a phone, whose button opens the page', async () => {
      const open = jest.spyOn(Linking, 'openURL').mockResolvedValue(true);
      render(<Markdown text="Blue light scatters[citation:1]." sources={sources} />);
      fireEvent.press(screen.getByRole('link', { name: 'Source 1: Rayleigh scattering' }));
      expect(await screen.findByText('1. Rayleigh scattering')).toBeTruthy();
      expect(screen.getByText('Wikipedia')).toBeTruthy();
      expect(screen.getByText('Light scatters off particles.')).toBeTruthy();
      fireEvent.press(screen.getByRole('button', { name: 'Open page' }));
      expect(open).toHaveBeenCalledWith('https://en.wikipedia.org/wiki/Rayleigh_scattering');
    });

    it('drops a marker with no such source', () => {
      render(<Markdown text="Made up[citation:7]." sources={sources} />);
      expect(screen.queryByRole('link')).toBeNull();
      expect(screen.queryByText(/citation/)).toBeNull();
      expect(screen.getByText(/Made up/)).toBeTruthy();
    });

    it('leaves a marker inside code as it is', async () => {
      render(<Markdown text={'Use `[citation:1]` literally:\n\n```\nprint("[citation:2]")\n```'} sources={sources} />);
      expect(screen.getByText('[citation:1]')).toBeTruthy();
      await waitFor(() => expect(JSON.stringify(screen.getByTestId('code-text').props.children)).toContain('[citation:2]'));
      expect(screen.queryByRole('link')).toBeNull();
    });

    it('holds back a marker cut off at the end of a streaming answer until it is whole', () => {
      const { rerender } = render(<Markdown text="Blue light scatters[citat" sources={sources} streaming />);
      expect(screen.queryByText(/\[citat/)).toBeNull();
      expect(screen.getByText(/Blue light scatters/)).toBeTruthy();
      rerender(<Markdown text="Blue light scatters[citation:1" sources={sources} streaming />);
      expect(screen.queryByText(/citation/)).toBeNull();
      rerender(<Markdown text="Blue light scatters[citation:1]" sources={sources} streaming />);
      expect(screen.getByRole('link', { name: 'Source 1: Rayleigh scattering' })).toBeTruthy();
    });
  });
});
