// Syntax highlighting with Prism's tokenizer (no HTML): code becomes a tree of typed tokens that
// CodeBlock renders as nested Text spans, the same on the web and on phones.
import Prism from 'prismjs';
import 'prismjs/components/prism-markup-templating';
import 'prismjs/components/prism-bash';
import 'prismjs/components/prism-c';
import 'prismjs/components/prism-cpp';
import 'prismjs/components/prism-csharp';
import 'prismjs/components/prism-diff';
import 'prismjs/components/prism-go';
import 'prismjs/components/prism-java';
import 'prismjs/components/prism-json';
import 'prismjs/components/prism-kotlin';
import 'prismjs/components/prism-markdown';
import 'prismjs/components/prism-php';
import 'prismjs/components/prism-python';
import 'prismjs/components/prism-ruby';
import 'prismjs/components/prism-rust';
import 'prismjs/components/prism-sql';
import 'prismjs/components/prism-swift';
import 'prismjs/components/prism-typescript';
import 'prismjs/components/prism-jsx';
import 'prismjs/components/prism-tsx';
import 'prismjs/components/prism-yaml';

/** A run of code text, with the Prism token types that apply to it (outermost first). */
export interface CodeSpan {
  text: string;
  types: string[];
}

const ALIASES: Record<string, string> = {
  js: 'javascript',
  mjs: 'javascript',
  ts: 'typescript',
  py: 'python',
  sh: 'bash',
  shell: 'bash',
  zsh: 'bash',
  console: 'bash',
  'c++': 'cpp',
  cs: 'csharp',
  'c#': 'csharp',
  golang: 'go',
  rs: 'rust',
  kt: 'kotlin',
  rb: 'ruby',
  yml: 'yaml',
  md: 'markdown',
  html: 'markup',
  xml: 'markup',
  svg: 'markup',
};

export function grammarName(language: string | undefined): string | null {
  if (!language) return null;
  const name = language.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const resolved = ALIASES[name] ?? name;
  return Prism.languages[resolved] ? resolved : null;
}

/** The code as flat spans, or null for a language Prism does not know (shown plain). */
export function highlight(code: string, language: string | undefined): CodeSpan[] | null {
  const name = grammarName(language);
  if (!name) return null;
  const spans: CodeSpan[] = [];
  const walk = (stream: Prism.TokenStream, types: string[]) => {
    if (typeof stream === 'string') {
      if (stream) spans.push({ text: stream, types });
      return;
    }
    if (Array.isArray(stream)) {
      for (const part of stream) walk(part, types);
      return;
    }
    const aliases = stream.alias ? (Array.isArray(stream.alias) ? stream.alias : [stream.alias]) : [];
    walk(stream.content, [...types, stream.type, ...aliases]);
  };
  walk(Prism.tokenize(code, Prism.languages[name] as Prism.Grammar), []);
  return spans;
}
