/**
 * What dispatch needs from the runtime it runs on. Everything else uses web-standard APIs, so
 * these few calls are all that differ between Bun and Deno.
 */
export type Runtime = {
  readonly name: "bun" | "deno";
  serve(options: ServeOptions): Promise<Server>;
  env(name: string): string | undefined;
  /**
   * Runs a command (an argument list, no shell) to completion; undefined when it cannot be
   * started (not installed). Bounded in time and in the output it keeps (see `RunOptions`).
   */
  run(command: readonly string[], options?: RunOptions): Promise<RunResult | undefined>;
  /**
   * Starts a long-running command (an argument list, no shell) whose output is read as it comes
   * (a serial console); undefined when it cannot be started. Its stdin is a pipe held open (a
   * console client such as `socat -` ends at EOF). Nothing bounds it: the caller stops it.
   */
  spawn(command: readonly string[], options?: SpawnOptions): Spawned | undefined;
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  isTerminal(): boolean;
  /** The terminal on stdout, for the live view; only meaningful when `isTerminal()`. */
  terminal(): Terminal;
  exit(code: number): never;
  readonly files: Files;
};

export type RunOptions = {
  /** Added to this process's environment: the one way a secret (a BMC password) reaches a child. */
  readonly env?: Readonly<Record<string, string>>;
  /** Then SIGTERM, and SIGKILL 2 s later; the result says `timedOut`. Default 60 s. */
  readonly timeoutMs?: number;
  /** Kept of each of stdout and stderr (the rest is read and dropped). Default 64 KiB. */
  readonly maxOutputBytes?: number;
  /** Aborted: stopped as at the end of `timeoutMs` (SIGTERM, then SIGKILL), without `timedOut`. */
  readonly signal?: AbortSignal;
};

export type SpawnOptions = {
  /** Added to this process's environment, as for `run`. */
  readonly env?: Readonly<Record<string, string>>;
};

/** A started child: its output as it comes, its exit status to come, a way to signal it. */
export type Spawned = {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** The exit status; 128 + n when signal n ended it. */
  readonly exited: Promise<number>;
  kill(signal: "SIGTERM" | "SIGKILL"): void;
};

export type RunResult = {
  /** The exit status; 128 + n when signal n ended it. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** It ran past `timeoutMs` and was stopped. */
  readonly timedOut: boolean;
  /** Output past `maxOutputBytes` was dropped. */
  readonly truncated: boolean;
};

/**
 * The few file operations the journal and the state folder need. Paths are absolute or relative
 * to the working directory. The state folder holds report texts: folders are created for the
 * owner only (0700), files readable by the owner only (0600).
 */
export type Files = {
  /** Creates the folder and any missing parents. */
  mkdirp(path: string): Promise<void>;
  /** The file's text, or undefined when there is no such file. */
  readText(path: string): Promise<string | undefined>;
  /** Writes the whole file and flushes it to the disk before resolving. */
  writeDurably(path: string, text: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Cuts the file to `length` bytes and flushes that to the disk. */
  truncate(path: string, length: number): Promise<void>;
  /** Opens (creating it if missing) a file to append to. */
  openAppend(path: string): Promise<AppendFile>;
  /** Removes the file; nothing when there is none. */
  remove(path: string): Promise<void>;
  /** The names in a folder (not "." or ".."), in no particular order. */
  list(dir: string): Promise<string[]>;
  /** What is at `path` (symbolic links followed), or undefined when nothing is. */
  stat(path: string): Promise<FileStat | undefined>;
  /** Opens a file to read; its `stat` describes the open file, whatever is at the path later. */
  openRead(path: string): Promise<ReadFile>;
  /** Flushes a folder's entries to the disk, so a rename into it survives a power cut. */
  syncDir(dir: string): Promise<void>;
};

export type FileStat = {
  readonly kind: "file" | "directory" | "other";
  readonly size: number;
  /** Modification time in nanoseconds since the epoch (as precise as the runtime reports it), as decimal digits. */
  readonly modifiedNs: string;
  /** The inode number: a file replaced by rename has a new one, a file rewritten in place the same. */
  readonly inode: number;
};

export type ReadFile = {
  stat(): Promise<FileStat>;
  /** Reads into `into` from byte `position`; the number of bytes read, 0 at the end of the file. */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
};

export type AppendFile = {
  /** Appends every byte (looping over short writes). */
  write(bytes: Uint8Array): Promise<void>;
  /** Flushes what was written to the disk (fdatasync): it survives a power cut from here on. */
  sync(): Promise<void>;
  close(): Promise<void>;
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
  /** Limits against slow or hostile clients; each has a default (see `serveLimits`). */
  readonly limits?: Partial<ServeLimits>;
  /** `remoteAddress` is the peer's IP address as the socket reports it. */
  readonly fetch: (request: Request, remoteAddress: string) => Response | Promise<Response>;
};

export type Server = {
  readonly hostname: string;
  readonly port: number;
  /**
   * Stops taking connections and cuts downloads and idle connections at once. Requests that
   * carry a body (`beacon boot`, `beacon report`) may finish first, until `grace.signal` aborts
   * (the caller's bound, or a second Ctrl-C); then whatever is left is cut. Without `grace`,
   * everything is cut at once.
   */
  stop(grace?: StopGrace): Promise<void>;
};

export type StopGrace = {
  /** Aborted: stop waiting, cut what is still in flight. */
  readonly signal: AbortSignal;
  /** Called once, when there is something to wait for, with what it is. */
  readonly waiting: (inFlight: readonly InFlight[]) => void;
};

/** A request that carries a body and has not been answered yet. */
export type InFlight = { readonly method: string; readonly path: string; readonly remoteAddress: string };

/** What a client gets before the server gives up on it, so a slow or hostile one cannot hold connections. */
export type ServeLimits = {
  /** From connecting (or the end of the previous response) to the end of the request headers. */
  readonly headersTimeoutMs: number;
  /**
   * A request body that goes silent: no bytes for this long while the app waits for more. A
   * body is judged by silence, not by its length over time, so a thin link never loses a report.
   */
  readonly bodyIdleMs: number;
  /** The whole of a request body, from the end of its headers however steadily it arrives: a generous cap. */
  readonly bodyTotalMs: number;
  /** A response the client stops reading: how long a write may wait for room. */
  readonly writeStallMs: number;
  /** Total size of the request line and headers. */
  readonly maxHeaderBytes: number;
  /** Largest request body taken at all; the app may set lower limits per route. */
  readonly maxBodyBytes: number;
  /** The same for a PUT (`beacon report`, which may carry a whole log): the app streams it to disk. */
  readonly maxReportBytes: number;
  /** On SIGINT/SIGTERM: how long reports in flight (and their filing) may take before dispatch exits anyway. */
  readonly stopGraceMs: number;
};

export const serveLimits: ServeLimits = {
  headersTimeoutMs: 20_000,
  bodyIdleMs: 30_000,
  // 256 MiB (the largest report) at 60 KiB/s takes 73 minutes.
  bodyTotalMs: 2 * 60 * 60_000,
  writeStallMs: 120_000,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 2 * 1024 * 1024,
  maxReportBytes: 256 * 1024 * 1024,
  stopGraceMs: 60_000,
};
