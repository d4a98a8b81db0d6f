// One contender for a state folder's lock, as a dispatch start takes it: waits for the shared
// instant given (ms since the epoch), then prints "won" (and holds it until SIGTERM) or
// "refused: …". Used by test/journal/lock.test.ts.
import { StateLockedError, lockState } from "../../../src/journal/lock.ts";

const [dir, at] = process.argv.slice(2);
while (Date.now() < Number(at) - 20) await Bun.sleep(5);
while (Date.now() < Number(at)) {
  // spin: every contender leaves at the same millisecond
}
try {
  const lock = await lockState(dir!, Date.now());
  console.log("won");
  // Held, by a live process, until told to stop.
  const alive = setInterval(() => {}, 60_000);
  process.on("SIGTERM", () => void lock.release().then(() => (clearInterval(alive), process.exit(0))));
} catch (error) {
  console.log(error instanceof StateLockedError ? `refused: ${error.message}` : `error: ${(error as Error).stack}`);
  process.exit(0);
}
