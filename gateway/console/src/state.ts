// A value screens re-render on: set() notifies every subscriber (the useSignal hook).
import { useEffect, useState } from "preact/hooks";

export interface Signal<T> {
  get(): T;
  set(value: T): void;
  subscribe(listener: () => void): () => void;
}

export function signal<T>(initial: T): Signal<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(next: T) {
      value = next;
      for (const listener of [...listeners]) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useSignal<T>(s: Signal<T>): T {
  const [, redraw] = useState(0);
  const seen = s.get();
  useEffect(() => {
    const unsubscribe = s.subscribe(() => redraw((n) => n + 1));
    // The effect runs after the render read the value: a change in between (a name learned by
    // another component's effect) would otherwise never redraw this one.
    if (s.get() !== seen) redraw((n) => n + 1);
    return unsubscribe;
  }, [s]);
  return seen;
}
