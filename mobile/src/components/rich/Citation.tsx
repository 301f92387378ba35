// A citation chip in an answer: a small number that opens its source. On the web it is a link to
// the page (a new tab); on a phone it opens a sheet with the page's title, site and an open button.
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { Linking, Platform, StyleSheet, Text } from 'react-native';

import type { Source } from '@/api/types';
import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { Button } from '../Button';
import { Dialog } from '../Dialog';

interface CitationContextValue {
  sources: Source[];
  open: (source: Source) => void;
}

const CitationContext = createContext<CitationContextValue>({ sources: [], open: () => undefined });

export function siteOf(source: Pick<Source, 'site' | 'url'>): string {
  if (source.site) return source.site;
  const match = /^https?:\/\/(?:www\.)?([^/:?#]+)/i.exec(source.url);
  return match?.[1] ?? source.url;
}

/** Only http(s) pages are opened: an answer's source is never a `javascript:` or app link. */
export function safeUrl(url: string): string | null {
  return /^https?:\/\//i.test(url) ? url : null;
}

export function CitationProvider({ sources, children }: { sources: Source[]; children: ReactNode }) {
  const t = useT();
  const [shown, setShown] = useState<Source | null>(null);
  const value = useMemo(() => ({ sources, open: setShown }), [sources]);
  const url = shown ? safeUrl(shown.url) : null;
  return (
    <CitationContext.Provider value={value}>
      {children}
      <Dialog
        visible={!!shown}
        title={shown ? `${shown.n}. ${shown.title || siteOf(shown)}` : ''}
        onClose={() => setShown(null)}
        actions={
          <>
            <Button label={t('common.close')} variant="secondary" onPress={() => setShown(null)} />
            {url ? (
              <Button
                label={t('chat.openSource')}
                icon="open-outline"
                onPress={() => {
                  setShown(null);
                  void Linking.openURL(url);
                }}
              />
            ) : null}
          </>
        }
      >
        {shown ? <SourceDetails source={shown} /> : null}
      </Dialog>
    </CitationContext.Provider>
  );
}

function SourceDetails({ source }: { source: Source }) {
  const { colors, fontSize } = useTheme();
  return (
    <>
      <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{siteOf(source)}</Text>
      {source.snippet ? (
        <Text numberOfLines={6} style={{ color: colors.text, fontSize: fontSize.sm }}>
          {source.snippet}
        </Text>
      ) : null}
    </>
  );
}

/** One `[citation:n]`; an n with no source is dropped, as the contract says. */
export function Citation({ n }: { n: number }) {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const { sources, open } = useContext(CitationContext);
  const source = sources.find((s) => s.n === n);
  if (!source) return null;
  const label = t('chat.citation', { n, title: source.title || siteOf(source) });
  const style = [styles.chip, { backgroundColor: colors.surfaceAlt, color: colors.accentText, fontSize: fontSize.xs }];
  const url = safeUrl(source.url);
  if (Platform.OS === 'web' && url) {
    // react-native-web draws a Text with href as <a>: a real link, opened in a new tab.
    const link = { href: url, hrefAttrs: { target: '_blank', rel: 'noopener noreferrer' } } as object;
    return (
      <Text accessibilityRole="link" accessibilityLabel={label} {...link} style={style}>
        {` ${n} `}
      </Text>
    );
  }
  return (
    <Text accessibilityRole="link" accessibilityLabel={label} onPress={() => open(source)} style={style} suppressHighlighting>
      {` ${n} `}
    </Text>
  );
}

const styles = StyleSheet.create({
  chip: { fontWeight: '700', borderRadius: 8, overflow: 'hidden' },
});
