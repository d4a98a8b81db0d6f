export type ServerEvent = { event: string; data: string; id?: string };

/**
 * A reader of a server-sent event stream, as EventSource would see it, for asserts: `next`
 * waits (bounded) for the first event that matches, skipping the others.
 */
export async function openEvents(url: string) {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal, headers: { accept: "text/event-stream" } });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: ServerEvent[] = [];
  let buffer = "";
  let comments = 0;

  const readOne = async (): Promise<ServerEvent> => {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: ServerEvent = { event: "message", data: "" };
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) comments++;
          else if (line.startsWith("event: ")) event.event = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
          else if (line.startsWith("id: ")) event.id = line.slice(4);
        }
        if (data.length === 0) continue; // a comment (ping) only
        event.data = data.join("\n");
        events.push(event);
        return event;
      }
      const { done, value } = await reader.read();
      if (done) throw new Error("the event stream ended");
      buffer += value;
    }
  };

  return {
    response,
    events,
    get comments() {
      return comments;
    },
    async next(match: (e: ServerEvent) => boolean = () => true, timeoutMs = 10_000): Promise<ServerEvent> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; saw ${events.map((e) => e.event).join(", ")}`)), timeoutMs);
      });
      try {
        for (;;) {
          const event = await Promise.race([readOne(), timeout]);
          if (match(event)) return event;
        }
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      abort.abort();
    },
  };
}
