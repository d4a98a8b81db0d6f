import type { Output } from "../output.ts";
import { countByState } from "../../core/selectors.ts";
import { jobStates } from "../../core/job.ts";
import type { Terminal } from "../../runtime/types.ts";
import { stateEmoji } from "../../status/wording.ts";
import { plainOutput } from "../plain-output.ts";
import { terminalSafe } from "../terminal-text.ts";
import type { StatusSource } from "../../status/source.ts";
import { type LiveView, startLiveView } from "./live-view.ts";
import { colorPaint } from "./paint.ts";

const keepMessages = 200;
/** What is left on the normal screen after the view closes: its last lines, then the counts. */
const replayMessages = 10;

/**
 * Output for a person at a terminal: plain lines until the queue runs, then the live view,
 * whose "recent" panel takes the log lines; when it closes, the last of them and the final
 * counts are printed, so the scrollback says how the run ended.
 */
export function ttyOutput(term: Terminal, onQuit: () => void): Output {
  const plain = plainOutput((line) => term.write(`${line}\n`));
  const messages: string[] = [];
  let view: LiveView | undefined;
  const log = (line: string) => {
    // Safe when kept: the view shows them, and they are printed again when it closes.
    messages.push(`${new Date().toTimeString().slice(0, 8)} ${terminalSafe(line)}`);
    if (messages.length > keepMessages) messages.splice(0, messages.length - keepMessages);
    view?.touch();
  };
  return {
    info: (line) => (view ? log(line) : plain.info(line)),
    warn: (line) => (view ? log(`⚠️  ${line}`) : plain.warn(line)),
    follow(status: StatusSource) {
      messages.length = 0;
      view = startLiveView(term, status, { paint: colorPaint, onQuit, messages: () => messages });
      return () => {
        if (!view) return;
        view.stop();
        view = undefined;
        const counts = countByState(status.store.state);
        const summary = jobStates.map((s) => `${stateEmoji[s]} ${counts[s]}`).join("  ");
        term.write([...messages.slice(-replayMessages), summary, ""].join("\n"));
      };
    },
  };
}
