// Announces with dispatch's own announcer under a name the test chooses, so two hosts can be
// made to want the same name (dispatch itself picks a random one). Prints the announcer's log
// lines; SIGTERM sends the goodbye and exits.
//   ip netns exec NS bun test/support/mdns-announce.ts NAME PORT
import { networkInterfaces } from "node:os";
import { announce } from "../../src/mdns/announce.ts";
import { announceTarget } from "../../src/mdns/interfaces.ts";
import { serviceTxt } from "../../src/mdns/service.ts";

const [name = "dispatch-test", port = "8080"] = process.argv.slice(2);
const log = { info: (line: string) => console.log(line), warn: (line: string) => console.log(`warning: ${line}`) };
const announcement = announce({
  name,
  port: Number(port),
  txt: serviceTxt("/dispatch", "test", "conflict test"),
  target: announceTarget("0.0.0.0", [], networkInterfaces()),
  log,
});
process.on("SIGTERM", () => void announcement.stop().then(() => process.exit(0)));
