// What the client reads from `GET /api/v1/models` and sends with a turn, against today's server
// (no new fields) and one with Search and Files.
import { capabilitiesOf, DEFAULT_FILES_PER_MESSAGE, turnBody } from '../endpoints';

describe('capabilitiesOf', () => {
  it('says no search and the default file limit when the server says nothing', () => {
    expect(capabilitiesOf(undefined)).toEqual({ search: false, search_provider: null, files: { max_per_message: DEFAULT_FILES_PER_MESSAGE, kinds: {} } });
    expect(capabilitiesOf([])).toMatchObject({ search: false });
    expect(capabilitiesOf({ data: [], capabilities: { search: true, search_provider: 'searxng' } })).toMatchObject({
      search: true,
      search_provider: 'searxng',
      files: { max_per_message: 20 },
    });
  });

  it('reads the server’s file limits', () => {
    const caps = capabilitiesOf({ data: [], capabilities: { search: false, search_provider: null, files: { max_per_message: 5, kinds: { pdf: 104857600 } } } });
    expect(caps.files).toEqual({ max_per_message: 5, kinds: { pdf: 104857600 } });
  });
});

describe('turnBody', () => {
  it('leaves search and file_ids out unless they are set', () => {
    expect(turnBody({ content: 'Hi', deepthink: true, search: false, file_ids: [] })).toEqual({ content: 'Hi', deepthink: true });
    expect(turnBody({ content: 'Hi', deepthink: false, search: true, file_ids: ['f1'] })).toEqual({ content: 'Hi', deepthink: false, search: true, file_ids: ['f1'] });
  });
});
