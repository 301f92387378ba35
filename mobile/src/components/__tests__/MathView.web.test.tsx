// The web's formula renderer in a DOM (jest's web platform, jsdom): KaTeX's MathML, loaded on first use.
import { act } from 'react';
import { createRoot } from 'react-dom/client';

import { MathView } from '../rich/MathView';

async function renderToDom(element: React.ReactElement): Promise<HTMLElement> {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  await act(async () => root.render(element));
  // KaTeX arrives in its own bundle: wait for it.
  for (let i = 0; i < 50 && !container.querySelector('math'); i += 1) {
    await act(async () => new Promise((resolve) => setTimeout(resolve, 20)));
  }
  return container;
}

describe('MathView on the web', () => {
  it('renders inline TeX as MathML', async () => {
    const container = await renderToDom(<MathView tex="x^2" display={false} color="#000" fontSize={15} />);
    const math = container.querySelector('[data-testid="math-inline"] math');
    expect(math).not.toBeNull();
    expect(math?.querySelector('msup')).not.toBeNull();
    expect(math?.getAttribute('display')).not.toBe('block');
  });

  it('renders display TeX as a block formula', async () => {
    const container = await renderToDom(<MathView tex={'\\frac{1}{2}'} display color="#000" fontSize={15} />);
    expect(container.querySelector('[data-testid="math-block"] math[display="block"] mfrac')).not.toBeNull();
  });

  it('shows bad TeX as text instead of throwing', async () => {
    const container = await renderToDom(<MathView tex={'\\frac{'} display={false} color="#000" fontSize={15} />);
    expect(container.textContent).toContain('\\frac{');
  });
});
