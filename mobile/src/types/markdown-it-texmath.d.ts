// markdown-it-texmath ships no types: the part of its API this app uses.
declare module 'markdown-it-texmath' {
  interface TexmathOptions {
    engine: { renderToString: (tex: string, options?: object) => string };
    delimiters: string | string[];
  }
  const texmath: (md: unknown, options: TexmathOptions) => void;
  export default texmath;
}
