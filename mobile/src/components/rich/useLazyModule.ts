// A module loaded on first use (its own bundle on the web), then available synchronously to
// every later render, so a streaming answer does not flash between plain and rich on each token.
import { useEffect, useState } from 'react';

export interface LazyModule<T> {
  load: () => Promise<T>;
  current: T | null;
}

export function lazyModule<T>(importer: () => Promise<T>): LazyModule<T> {
  let pending: Promise<T> | null = null;
  const lazy: LazyModule<T> = {
    current: null,
    load: () => {
      pending ??= importer().then((module) => {
        lazy.current = module;
        return module;
      });
      return pending;
    },
  };
  return lazy;
}

export function useLazyModule<T>(lazy: LazyModule<T>): T | null {
  const [module, setModule] = useState<T | null>(lazy.current);
  useEffect(() => {
    if (module) return;
    let live = true;
    void lazy.load().then((loaded) => live && setModule(() => loaded));
    return () => {
      live = false;
    };
  }, [lazy, module]);
  return module ?? lazy.current;
}
