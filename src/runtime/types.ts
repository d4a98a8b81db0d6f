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
  exit(code: number): never;
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
