import { open, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";

/**
 * One dispatch per state folder: two would both serve, hand one job to two servers and
 * interleave one journal. The lock is a file naming its holder (pid, host, start time,
 * command); a holder that is gone (killed with SIGKILL, the machine rebooted) leaves a file
 * whose pid is dead, or alive but started at another time (the pid was reused), and the next
 * dispatch takes it over. Plain files and `process.kill(pid, 0)`: the same under Bun, Deno and
 * the compiled binary, with no lock library's refresh timer.
 */
export type StateLock = { release(): Promise<void> };

/** The state folder is held by another live dispatch; the message names it. */
export class StateLockedError extends Error {
  override name = "StateLockedError";
}

type Holder = {
  readonly pid: number;
  readonly host: string;
  /** The process's start in clock ticks since boot (/proc/PID/stat), to tell a reused pid apart; null off Linux. */
  readonly procStart: number | null;
  readonly since: string;
  readonly command: string;
};

export const lockFile = "lock";

export async function lockState(dir: string, now: number): Promise<StateLock> {
  const path = join(dir, lockFile);
  const self: Holder = {
    pid: process.pid,
    host: hostname(),
    procStart: await procStart(process.pid),
    since: new Date(now).toISOString(),
    // argv[0] and [1] are the runtime and the script (or the binary twice): the flags tell runs apart.
    command: `dispatch ${redact(process.argv.slice(2))}`.trimEnd(),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const file = await open(path, "wx", 0o600);
      try {
        await file.writeFile(`${JSON.stringify(self)}\n`);
      } finally {
        await file.close();
      }
      return { release: () => release(path, self) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 2) throw error;
    }
    const holder = await readHolder(path);
    if (holder && (await alive(holder))) {
      const elsewhere = holder.host !== hostname() ? ` If it no longer runs there, delete ${path}.` : "";
      throw new StateLockedError(
        `another dispatch is using the state folder ${dir}: pid ${holder.pid} on ${holder.host}, started ${holder.since} ` +
          `(${holder.command}). Stop it first, or give this one its own folder with --state DIR.${elsewhere}`,
      );
    }
    // Its holder is gone: take it over (a lock being written right now reads as gone for a moment; hence the few attempts).
    await rm(path, { force: true });
  }
}

async function release(path: string, self: Holder): Promise<void> {
  const holder = await readHolder(path);
  if (holder?.pid === self.pid && holder.since === self.since) await rm(path, { force: true });
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const json = JSON.parse(await readFile(path, "utf8")) as Partial<Holder>;
    return typeof json.pid === "number" && typeof json.host === "string" ? (json as Holder) : undefined;
  } catch {
    return undefined;
  }
}

async function alive(holder: Holder): Promise<boolean> {
  // Another machine's dispatch (a shared home folder): its pid means nothing here, so it counts as alive.
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const start = await procStart(holder.pid);
  return holder.procStart === null || start === null || start === holder.procStart;
}

/** Field 22 of /proc/PID/stat (after the command name, which may hold spaces); null where there is no /proc. */
async function procStart(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** The command line with the token's value hidden: the lock file is read by whoever finds it. */
function redact(argv: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--token") {
      out.push(arg, "***");
      i++;
    } else out.push(arg.startsWith("--token=") ? "--token=***" : arg);
  }
  return out.join(" ");
}
