import type { DispatchEvent } from "./events.ts";
import type { DispatchState } from "./job.ts";
import type { Outcome } from "./outcome.ts";
import { type Step, step } from "./reducer.ts";

export type Change = { readonly event: DispatchEvent; readonly before: DispatchState; readonly after: DispatchState; readonly outcome: Outcome };
export type Listener = (change: Change) => void;

/**
 * Holds the current state and tells listeners (log, journal, filer, status stream) about
 * every event. Synchronous: the edge that dispatches gets the reducer's decision back.
 */
export type Store = {
  readonly state: DispatchState;
  dispatch(event: DispatchEvent): Step;
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
      const result = step(before, event);
      state = result.state;
      for (const listener of listeners) listener({ event, before, after: state, outcome: result.outcome });
      return result;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
