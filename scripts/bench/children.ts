import type { Subprocess } from "bun";

const live = new Set<Subprocess>();

/** Remembers a child process until it exits, so an interrupted bench can stop it by its pid. */
export function track<T extends Subprocess>(child: T): T {
  live.add(child);
  void child.exited.then(() => live.delete(child));
  return child;
}

/** Stops every child still running (SIGTERM), e.g. when the bench itself is told to stop. */
export function stopAll(): void {
  for (const child of live) child.kill("SIGTERM");
}
