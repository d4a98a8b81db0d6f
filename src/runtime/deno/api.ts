/**
 * The part of Deno's global API the adapter uses, typed here so the Bun type-check does not need
 * Deno's lib. Only imported under Deno (detect.ts), where `globalThis.Deno` exists.
 */
export type DenoApi = {
  env: { get(name: string): string | undefined };
  Command: new (
    cmd: string,
    options: { args: string[]; env: Record<string, string>; stdout: "piped"; stderr: "piped"; stdin: "null" | "piped" },
  ) => { spawn(): DenoChildProcess };
  addSignalListener(signal: "SIGINT" | "SIGTERM" | "SIGWINCH", handler: () => void): void;
  removeSignalListener(signal: "SIGWINCH", handler: () => void): void;
  stdout: { isTerminal(): boolean; writeSync(bytes: Uint8Array): number };
  stdin: { isTerminal(): boolean; setRaw(raw: boolean): void; readable: ReadableStream<Uint8Array> };
  consoleSize(): { columns: number; rows: number };
  exit(code: number): never;
  mkdir(path: string, options: { recursive: boolean; mode?: number }): Promise<void>;
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, data: string, options?: { mode?: number }): Promise<void>;
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  truncate(path: string, length: number): Promise<void>;
  open(path: string, options: { read?: boolean; write?: boolean; append?: boolean; create?: boolean; mode?: number }): Promise<DenoFile>;
  errors: { NotFound: new () => Error };
  readDir(path: string): AsyncIterable<{ name: string }>;
  stat(path: string): Promise<DenoFileInfo>;
  SeekMode: { Start: 0 };
};

export type DenoChildProcess = {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** `code` is 128 + n when signal n ended it. */
  readonly status: Promise<{ code: number; signal: string | null }>;
  kill(signal: "SIGTERM" | "SIGKILL"): void;
};

export type DenoFileInfo = { isFile: boolean; isDirectory: boolean; size: number; mtime: Date | null; ino: number | null };

export type DenoFile = {
  write(bytes: Uint8Array): Promise<number>;
  read(into: Uint8Array): Promise<number | null>;
  seek(offset: number, whence: 0): Promise<number>;
  stat(): Promise<DenoFileInfo>;
  syncData(): Promise<void>;
  sync(): Promise<void>;
  close(): void;
};

export const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
