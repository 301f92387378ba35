// Jest's stand-in for expo-file-system in every test (a node module's mock beside node_modules applies
// without a jest.mock call): the native file system is an edge the unit tests cannot reach. Paths join
// the way the real Directory and File join theirs; downloadFileAsync resolves to its target.
const join = (parts: unknown[]) => parts.map((part) => (typeof part === 'string' ? part : (part as { uri: string }).uri)).join('/');

export class Directory {
  uri: string;
  constructor(...parts: unknown[]) {
    this.uri = join(parts);
  }
  create = jest.fn();
  static pickDirectoryAsync = jest.fn();
}

export class File {
  uri: string;
  constructor(...parts: unknown[]) {
    this.uri = join(parts);
  }
  copy = jest.fn(async () => undefined);
  static downloadFileAsync = jest.fn(async (_url: string, target: File) => target);
}

export const Paths = { cache: { uri: 'file:///cache' } };
