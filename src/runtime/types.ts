/**
 * What dispatch needs from the runtime it runs on. Everything else uses web-standard APIs, so
 * these few calls are all that differ between Bun and Deno.
 */
export type Runtime = {
  readonly name: "bun" | "deno";
  serve(options: ServeOptions): Promise<Server>;
  env(name: string): string | undefined;
  /** Runs a command to completion; undefined when it cannot be started (not installed). */
  run(command: readonly string[]): Promise<{ code: number; stdout: string } | undefined>;
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  isTerminal(): boolean;
  /** The terminal on stdout, for the live view; only meaningful when `isTerminal()`. */
  terminal(): Terminal;
  exit(code: number): never;
};

/** Just enough of a terminal for a full-screen view. */
export type Terminal = {
  size(): { readonly columns: number; readonly rows: number };
  /** Writes synchronously, so a restore on the way out is not lost. */
  write(text: string): void;
  onResize(handler: () => void): () => void;
  /**
   * Keys as they are typed (raw mode, so Ctrl-C arrives as "\x03" rather than SIGINT) while a
   * handler is attached; false when stdin is not a terminal and no keys can be read.
   */
  onInput(handler: (text: string) => void): (() => void) | false;
  /** Runs once on every way out of the process, a crash included. Synchronous work only. */
  onExit(handler: () => void): () => void;
};

export type ServeOptions = {
  readonly hostname: string;
  readonly port: number;
  /** `remoteAddress` is the peer's IP address as the socket reports it. */
  readonly fetch: (request: Request, remoteAddress: string) => Response | Promise<Response>;
};

export type Server = {
  readonly hostname: string;
  readonly port: number;
  stop(): Promise<void>;
};
