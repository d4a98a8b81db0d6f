import ansiEscapes from "ansi-escapes";
import type { Terminal } from "../../runtime/types.ts";
import type { StatusSource } from "../../status/source.ts";
import type { Paint } from "./paint.ts";
import { renderScreen } from "./screen.ts";

export type LiveViewOptions = {
  readonly paint: Paint;
  /** `q` or Ctrl-C: the user wants dispatch to stop. */
  readonly onQuit: () => void;
  /** Lines logged so far, oldest first; the view shows the newest. */
  readonly messages: () => readonly string[];
  /** Redraw at most this often on changes (a busy download changes state every 250 ms). */
  readonly frameMs?: number;
};

export type LiveView = {
  /** Something was logged: show it soon. */
  touch(): void;
  /** Restores the terminal; safe to call more than once. */
  stop(): void;
};

/**
 * The full-screen view: the alternate screen (so the shell's scrollback is left as it was),
 * redrawn from the state when it changes, every second, and at once on resize. The terminal
 * is restored on stop, on exit and on a crash.
 */
export function startLiveView(term: Terminal, source: StatusSource, options: LiveViewOptions): LiveView {
  const frameMs = options.frameMs ?? 100;
  let previous: string[] = [];
  let pending: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const draw = () => {
    pending = undefined;
    if (stopped) return;
    const { columns, rows } = term.size();
    const lines = renderScreen(
      { status: source.view(), now: source.now(), messages: options.messages(), width: columns, height: rows },
      options.paint,
    );
    // Only the lines that changed, each addressed absolutely: no scrolling, no flicker.
    let out = "";
    lines.forEach((line, row) => {
      if (line !== previous[row]) out += ansiEscapes.cursorTo(0, row) + line + ansiEscapes.eraseEndLine;
    });
    if (lines.length < previous.length) out += ansiEscapes.cursorTo(0, lines.length) + ansiEscapes.eraseDown;
    previous = lines;
    if (out) term.write(ansiEscapes.synchronizedOutput(out));
  };
  const soon = () => {
    pending ??= setTimeout(draw, frameMs);
  };
  const redraw = () => {
    // After a resize every line is stale, and the terminal may have reflowed what was there.
    previous = [];
    term.write(ansiEscapes.eraseScreen);
    draw();
  };

  const restore = () => {
    term.write(ansiEscapes.cursorShow + ansiEscapes.exitAlternativeScreen);
  };
  term.write(ansiEscapes.enterAlternativeScreen + ansiEscapes.cursorHide + ansiEscapes.eraseScreen);
  const unsubscribe = source.store.subscribe(({ before, after }) => {
    if (before !== after) soon();
  });
  // Every second the whole screen is painted again, not just what changed: ages and speeds
  // move on, and whatever else wrote to the terminal (a runtime warning on stderr) is painted over.
  const clock = setInterval(() => {
    previous = [];
    draw();
  }, 1000);
  const offResize = term.onResize(redraw);
  const offInput = term.onInput((keys) => {
    if (keys.includes("q") || keys.includes("Q") || keys.includes("\u0003")) options.onQuit();
  });
  const offExit = term.onExit(() => {
    // Crash or exit without stop(): give the user their terminal back.
    if (offInput) offInput();
    restore();
  });
  draw();

  return {
    touch: soon,
    stop() {
      if (stopped) return;
      stopped = true;
      if (pending) clearTimeout(pending);
      clearInterval(clock);
      unsubscribe();
      offResize();
      if (offInput) offInput();
      offExit();
      restore();
    },
  };
}
