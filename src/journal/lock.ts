import { randomUUID } from "node:crypto";
import { link, readFile, rename, rm, writeFile } from "node:fs/promises";
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

/** The one file a takeover of a stale lock holds: two dispatch processes never remove a lock together. */
const claimFile = "lock.takeover";

/** How often a start looks again at a lock that changes under it (another dispatch starting at the same instant). */
const attempts = 50;

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
  const text = `${JSON.stringify(self)}\n`;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await create(path, text)) return { release: () => release(path, self) };
    const seen = await readText(path);
    if (seen === undefined) continue; // released (or taken away) a moment ago: try again
    const holder = parseHolder(seen);
    if (holder && (await alive(holder))) {
      const elsewhere = holder.host !== hostname() ? ` If it no longer runs there, delete ${path}.` : "";
      throw new StateLockedError(
        `another dispatch is using the state folder ${dir}: pid ${holder.pid} on ${holder.host}, started ${holder.since} ` +
          `(${holder.command}). Stop it first, or give this one its own folder with --state DIR.${elsewhere}`,
      );
    }
    // Its holder is gone (or the file is damaged): take it away, under the claim, and compete again.
    await takeAway(dir, path, seen, text);
  }
  throw new Error(`could not take the lock ${path}: it kept changing while ${attempts} attempts looked at it. Start dispatch again.`);
}

/**
 * Makes the file whole in one step, only if there is none: written aside, then hard-linked into
 * place (a reader never sees it empty, and of two creators exactly one gets EEXIST-free).
 */
async function create(path: string, text: string): Promise<boolean> {
  const aside = `${path}.${process.pid}.${randomUUID()}`;
  await writeFile(aside, text, { mode: 0o600, flag: "wx" });
  try {
    await link(aside, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw error;
    // A file system without hard links (FAT on a USB stick): made in place, empty for a moment.
    return writeFile(path, text, { mode: 0o600, flag: "wx" }).then(
      () => true,
      (error: NodeJS.ErrnoException) => (error.code === "EEXIST" ? false : Promise.reject(error)),
    );
  } finally {
    await rm(aside, { force: true });
  }
}

/**
 * Removes the stale lock `stale`, if it is still what the lock file holds. Only the holder of the
 * claim file removes a lock, and only the one it judged stale: two starts that judged the same
 * stale lock at the same instant never remove a lock one of them has just made. A claim left by
 * a start that died is itself stale and taken away.
 */
async function takeAway(dir: string, path: string, stale: string, self: string): Promise<void> {
  const claim = join(dir, claimFile);
  if (!(await create(claim, self))) {
    const claimed = await readText(claim);
    const claimant = claimed === undefined ? undefined : parseHolder(claimed);
    if (claimed !== undefined && (!claimant || !(await alive(claimant)))) await removeIfStill(claim, claimed);
    else await sleep(10 + Math.random() * 20); // another start is taking over: see what it made
    return;
  }
  try {
    if ((await readText(path)) === stale) await rm(path, { force: true });
  } finally {
    await rm(claim, { force: true });
  }
}

/** Removes `path` if it still holds `text`: moved aside first, so a file made there meanwhile is put back, not removed. */
async function removeIfStill(path: string, text: string): Promise<void> {
  const aside = `${path}.gone.${process.pid}.${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if ((await readText(aside)) !== text) await link(aside, path).catch(() => {});
  await rm(aside, { force: true });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function release(path: string, self: Holder): Promise<void> {
  const holder = await readHolder(path);
  if (holder?.pid === self.pid && holder.since === self.since) await rm(path, { force: true });
}

async function readHolder(path: string): Promise<Holder | undefined> {
  const text = await readText(path).catch(() => undefined);
  return text === undefined ? undefined : parseHolder(text);
}

function parseHolder(text: string): Holder | undefined {
  try {
    const json = JSON.parse(text) as Partial<Holder>;
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
