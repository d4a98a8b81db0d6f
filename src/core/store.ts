import type { DispatchEvent } from "./events.ts";
import type { DispatchState } from "./job.ts";
import { reduce } from "./reducer.ts";

export type Change = { readonly event: DispatchEvent; readonly before: DispatchState; readonly after: DispatchState };
export type Listener = (change: Change) => void;

/**
 * Holds the current state and tells listeners (log, journal, filer, status stream) about
 * every event. Synchronous, so an edge that dispatches reads the outcome on the next line.
 */
export type Store = {
  readonly state: DispatchState;
  dispatch(event: DispatchEvent): DispatchState;
  subscribe(listener: Listener): () => void;
};

export function createStore(initial: DispatchState): Store {
  let state = initial;
  const listeners = new Set<Listener>();
  return {
    get state() {
      return state;
    },
    dispatch(event) {
      const before = state;
      state = reduce(before, event);
      for (const listener of listeners) listener({ event, before, after: state });
      return state;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
