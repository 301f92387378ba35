// On the web a citation chip is a real link to its source, opened in a new tab; in an answer the
// marker never shows as text.
import { act } from 'react';
import { createRoot } from 'react-dom/client';

import { Markdown } from '../Markdown';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const sources = [
  { n: 1, title: 'Rayleigh scattering', url: 'https://en.wikipedia.org/wiki/Rayleigh_scattering', site: 'Wikipedia' },
  { n: 2, title: 'Trap', url: 'javascript:alert(1)', site: 'evil' },
];

async function renderToDom(element: React.ReactElement): Promise<HTMLElement> {
  const container = document.createElement('div');
  document.body.appendChild(container);
  await act(async () => createRoot(container).render(element));
  return container;
}

describe('citation chips on the web', () => {
  it('are links to the source that open in a new tab', async () => {
    const container = await renderToDom(<Markdown text="Blue light scatters most[citation:1]." sources={sources} />);
    const link = container.querySelector('a[aria-label="Source 1: Rayleigh scattering"]');
    expect(link?.getAttribute('href')).toBe('https://en.wikipedia.org/wiki/Rayleigh_scattering');
    expect(link?.getAttribute('target')).toBe('_blank');
    expect(link?.getAttribute('rel')).toContain('noopener');
    expect(container.textContent).not.toContain('[citation');
  });

  it('never link anything but http(s)', async () => {
    const container = await renderToDom(<Markdown text="See[citation:2]." sources={sources} />);
    expect(container.querySelector('a[href^="javascript"]')).toBeNull();
    expect(container.textContent).not.toContain('[citation');
  });
});
