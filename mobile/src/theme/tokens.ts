// The one place for colours, spacing, radii and type sizes, in light and dark. Text colours meet
// WCAG AA (4.5:1) on the surfaces they are used on; axe-core checks it in the browser run.
export type ColorScheme = 'light' | 'dark';

export interface Palette {
  background: string;
  surface: string;
  surfaceAlt: string;
  sidebar: string;
  border: string;
  text: string;
  textMuted: string;
  textSubtle: string;
  accent: string;
  accentText: string;
  accentSoft: string;
  /** Fills under white text (buttons, the send button): the brand blue, darkened to 4.5:1 or more. */
  accentStrong: string;
  onAccent: string;
  userBubble: string;
  codeBackground: string;
  codeText: string;
  danger: string;
  /** Fills under white text (the Delete buttons). */
  dangerStrong: string;
  dangerSoft: string;
  warningSoft: string;
  warningText: string;
  overlay: string;
  disabled: string;
}

export const ACCENT = '#4D6BFE';

const light: Palette = {
  background: '#FFFFFF',
  surface: '#F5F6F8',
  surfaceAlt: '#ECEEF2',
  sidebar: '#F9FAFB',
  border: '#E3E5EA',
  text: '#1A1C21',
  textMuted: '#5C6270',
  textSubtle: '#646A78',
  accent: ACCENT,
  accentText: '#3A56E8',
  accentSoft: '#DCE4FF',
  accentStrong: '#3D5CF5',
  onAccent: '#FFFFFF',
  userBubble: '#EFF3FF',
  codeBackground: '#F3F4F7',
  codeText: '#1A1C21',
  danger: '#C8281E',
  dangerStrong: '#C8281E',
  dangerSoft: '#FDECEA',
  warningSoft: '#FFF4E0',
  warningText: '#7A4B00',
  overlay: 'rgba(0,0,0,0.35)',
  disabled: '#C3C7D0',
};

const dark: Palette = {
  background: '#1E1F23',
  surface: '#2A2B30',
  surfaceAlt: '#33353B',
  sidebar: '#17181B',
  border: '#3A3C43',
  text: '#ECEDEF',
  textMuted: '#A8ADB8',
  textSubtle: '#A0A5B1',
  accent: ACCENT,
  accentText: '#8FA2FF',
  accentSoft: '#2C3766',
  accentStrong: '#3D5CF5',
  onAccent: '#FFFFFF',
  userBubble: '#2F3447',
  codeBackground: '#16171A',
  codeText: '#E6E7EA',
  danger: '#FF7B72',
  dangerStrong: '#B3261E',
  dangerSoft: '#3B2222',
  warningSoft: '#3A2F1A',
  warningText: '#FFD38A',
  overlay: 'rgba(0,0,0,0.6)',
  disabled: '#4A4D55',
};

export const palettes: Record<ColorScheme, Palette> = { light, dark };

export const spacing = { xs: 4, sm: 8, md: 12, lg: 16, xl: 24, xxl: 32 } as const;
export const radius = { sm: 8, md: 12, lg: 16, xl: 24, pill: 999 } as const;
export const fontSize = { xs: 12, sm: 13, md: 15, lg: 17, xl: 22, xxl: 28 } as const;

/** A visible focus ring around a box whose own input draws none: a second pixel outside its border. */
export function focusRing(color: string) {
  return { outlineColor: color, outlineStyle: 'solid', outlineWidth: 1 } as const;
}

/** Above this width the history is a permanent sidebar instead of a drawer. */
export const WIDE_BREAKPOINT = 900;
/** The chat column never grows wider than this, like DeepSeek's web app. */
export const CONTENT_MAX_WIDTH = 800;

export interface Theme {
  scheme: ColorScheme;
  colors: Palette;
  spacing: typeof spacing;
  radius: typeof radius;
  fontSize: typeof fontSize;
}

export function makeTheme(scheme: ColorScheme): Theme {
  return { scheme, colors: palettes[scheme], spacing, radius, fontSize };
}
