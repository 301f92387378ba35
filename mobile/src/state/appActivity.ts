// Whether the app is in front of the user, on phones: React Native's AppState. A locked phone or
// another app in front is 'background'; iOS's brief 'inactive' (the app switcher, a call banner)
// does not count, so a glance away does not drop the streams.
import { AppState, type AppStateStatus } from 'react-native';

export type ActivityListener = (active: boolean) => void;

export function isAppActive(): boolean {
  return AppState.currentState !== 'background';
}

export function onAppActivity(listener: ActivityListener): () => void {
  let active = isAppActive();
  const subscription = AppState.addEventListener('change', (next: AppStateStatus) => {
    if (next === 'inactive') return;
    const now = next === 'active';
    if (now === active) return;
    active = now;
    listener(now);
  });
  return () => subscription.remove();
}
