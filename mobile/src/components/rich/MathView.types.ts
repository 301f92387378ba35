// The props of MathView, shared by the web (KaTeX) and native (MathJax) implementations.
export interface MathViewProps {
  tex: string;
  /** A display formula (its own centred line) rather than inline. */
  display: boolean;
  color: string;
  fontSize: number;
}
