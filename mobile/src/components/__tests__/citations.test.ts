// The plain-text side of citation markers: what a streaming answer holds back, and what Copy gives.
import { citationsAsText, holdPartialCitation } from '../rich/citations';

describe('holdPartialCitation', () => {
  it('holds back every prefix of a marker at the very end, and nothing else', () => {
    for (const tail of ['[', '[c', '[citat', '[citation', '[citation:', '[citation:1', '[citation:1,', '[citation:1, 2']) {
      expect(holdPartialCitation(`Blue light${tail}`)).toBe('Blue light');
    }
    expect(holdPartialCitation('Blue light[citation:1]')).toBe('Blue light[citation:1]');
    expect(holdPartialCitation('a [link](https://x.org)')).toBe('a [link](https://x.org)');
    expect(holdPartialCitation('[cite me] later')).toBe('[cite me] later');
  });
});

describe('citationsAsText', () => {
  it('turns markers into bracketed numbers', () => {
    expect(citationsAsText('Blue[citation:1][citation:2], red [citation:3, 4].')).toBe('Blue[1][2], red [3][4].');
  });
});
