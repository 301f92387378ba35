// Whether the app is in front of the user, on the web: the page's visibility (a hidden tab, a
// minimised window, a locked screen).
export type ActivityListener = (active: boolean) => void;

export function isAppActive(): boolean {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden';
}

export function onAppActivity(listener: ActivityListener): () => void {
  if (typeof document === 'undefined') return () => {};
  let active = isAppActive();
  const changed = () => {
    const now = isAppActive();
    if (now === active) return;
    active = now;
    listener(now);
  };
  document.addEventListener('visibilitychange', changed);
  return () => document.removeEventListener('visibilitychange', changed);
}
