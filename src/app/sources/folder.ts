import { join, resolve } from "node:path";
import { dispatchTypeOfFileName } from "../../core/content-types.ts";
import type { Log } from "../../core/log.ts";
import { type AssetInfo, type Workload, selectWorkloads } from "../../core/workload.ts";
import { withFillable } from "../../runtime/fillable.ts";
import type { FileStat, Files, ReadFile } from "../../runtime/types.ts";
import { formatBytes } from "../../status/bytes.ts";
import { UsageError } from "../errors.ts";
import type { WorkloadSource } from "../ports.ts";

/** Bytes read from disk per chunk: large enough that a syscall per chunk costs nothing next to the copy. */
const chunkBytes = 1024 * 1024;
/** How many left-out names the start lines show before "and N more". */
const namesShown = 12;

/**
 * A folder of workload files (`--dir`): its `*.efi`, `*.iso` and `*.img` files, in name order,
 * served from disk. Each file is known by its size, modification time and inode as they were
 * when it was queued; a download opens the file once and checks it is still that build, so a
 * server never gets a mix of two builds, and a file removed or rebuilt fails its job with a
 * reason instead of serving something else under its name.
 */
export async function folderSource(dir: string, filters: readonly string[], files: Files, log: Log): Promise<WorkloadSource> {
  const folder = resolve(dir);
  const what = await files.stat(folder);
  if (what?.kind !== "directory") {
    throw new UsageError(`--dir ${dir}: ${what ? "not a folder" : "no such folder"}. Give the folder your build writes its .efi, .iso or .img files to.`);
  }

  const assets: AssetInfo[] = [];
  const leftOut: string[] = [];
  const names = (await files.list(folder)).sort(byCodeUnit);
  for (const name of names) {
    const stat = await files.stat(join(folder, name));
    const type = dispatchTypeOfFileName(name);
    if (!stat || stat.kind !== "file") leftOut.push(`${name} (${stat?.kind === "directory" ? "a folder" : "not a regular file"})`);
    else if (!type) leftOut.push(`${name} (not .efi, .iso or .img)`);
    else assets.push({ name, size: stat.size, contentType: type, url: join(folder, name), revision: revisionOf(stat) });
  }
  const workloads = selectWorkloads(assets, filters);
  const queued = new Set(workloads.map((w) => w.name));
  for (const asset of assets) if (!queued.has(asset.name)) leftOut.push(`${asset.name} (matches no filter)`);

  log.info(`folder ${folder}: ${names.length} ${names.length === 1 ? "entry" : "entries"}, ${workloads.length} queued`);
  for (const w of workloads) log.info(`  ⏳ ${w.name} (${formatBytes(w.size)}, ${w.bootType})`);
  if (leftOut.length > 0) {
    const more = leftOut.length > namesShown ? `, and ${leftOut.length - namesShown} more` : "";
    log.info(`  left out: ${leftOut.slice(0, namesShown).join(", ")}${more}`);
  }
  if (workloads.length === 0) {
    log.warn(
      `nothing to run: no file in ${folder} ${filters.length ? `matching ${filters.join(", ")} ` : ""}is named *.efi, *.iso or *.img. ` +
        `Every server will get poweroff.efi.`,
    );
  }

  return {
    label: `folder ${folder}`,
    // The journal knows a folder run by the folder's path and each file's name, size and revision.
    context: { repository: folder, release: "folder", origin: `folder \`${folder}\`` },
    workloads,
    stateKey: ["folder", folder],
    open: (workload, range) => openWorkloadFile(files, folder, workload, range),
  };
}

/** The file as it is now, streamed from the one descriptor checked against the queued build; 410 when it is not that build any more. */
async function openWorkloadFile(files: Files, folder: string, workload: Workload, range: string | undefined): Promise<Response> {
  let file: ReadFile;
  try {
    file = await files.openRead(workload.source);
  } catch (error) {
    if ((await files.stat(workload.source)) === undefined) return gone(`${workload.name} was removed from ${folder} after it was queued`);
    throw error;
  }
  const change = changeFrom(workload, await file.stat());
  if (change) {
    await file.close();
    return gone(
      `${workload.name} in ${folder} is not the build that was queued (${change}); a job never mixes two builds: ` +
        `restart dispatch with --fresh to queue the new one`,
    );
  }
  // The boot handler has validated the range against the queued size, which the file still has.
  const match = range ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
  const start = match ? Number(match[1]) : 0;
  const end = match ? Number(match[2]) : workload.size - 1;
  return new Response(fileStream(file, workload, start, end), { status: match ? 206 : 200 });
}

/**
 * Bytes `start`–`end` of the open file, as a stream and as a fillable body (the server's own
 * buffers, see runtime/fillable.ts); whichever is read, each read is checked against the queued
 * build after it, so a file rewritten in place mid-download breaks the download instead of
 * finishing it with another build's bytes.
 */
function fileStream(file: ReadFile, workload: Workload, start: number, end: number): ReadableStream<Uint8Array> {
  let position = start;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    void file.close().catch(() => {});
  };
  /** Reads the next bytes into `into`; 0 at the end (the file is closed then). */
  const fill = async (into: Uint8Array): Promise<number> => {
    try {
      const left = end + 1 - position;
      if (left <= 0) {
        close();
        return 0;
      }
      const read = await file.read(left < into.byteLength ? into.subarray(0, left) : into, position);
      if (read === 0) throw new Error(`${workload.name} ended at byte ${position} of ${workload.size}: it was cut short on disk while being served`);
      const change = changeFrom(workload, await file.stat());
      if (change) throw new Error(`${workload.name} changed on disk while being served (${change})`);
      position += read;
      return read;
    } catch (error) {
      close();
      throw error;
    }
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = new Uint8Array(Math.min(chunkBytes, Math.max(1, end + 1 - position)));
        const read = await fill(chunk);
        if (read === 0) controller.close();
        else controller.enqueue(read === chunk.byteLength ? chunk : chunk.subarray(0, read));
      } catch (error) {
        controller.error(error);
      }
    },
    cancel: close,
    // Pulled only when read: a read ahead would move the position under the fillable form.
  }, { highWaterMark: 0 });
  return withFillable(stream, { fill, close });
}

/** What differs between the queued build and the file as it is, or undefined for the same build. */
export function changeFrom(workload: Workload, now: FileStat): string | undefined {
  const changes: string[] = [];
  if (now.size !== workload.size) changes.push(`${workload.size} bytes then, ${now.size} now`);
  const revision = revisionOf(now);
  if (revision !== workload.revision) changes.push(`${workload.revision ?? "unknown"} then, ${revision} now`);
  return changes.length > 0 ? changes.join("; ") : undefined;
}

/**
 * The modification time and inode: a rebuild changes one or both. The time is kept to the
 * millisecond, the precision both runtimes give (Bun has nanoseconds, Deno milliseconds), so a
 * journal written under one resumes under the other.
 */
export function revisionOf(stat: FileStat): string {
  const ms = BigInt(stat.modifiedNs) / 1_000_000n;
  return `modified ${new Date(Number(ms)).toISOString()}, inode ${stat.inode}`;
}

function gone(reason: string): Response {
  return new Response(reason, { status: 410, headers: { "content-type": "text/plain; charset=utf-8" } });
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
