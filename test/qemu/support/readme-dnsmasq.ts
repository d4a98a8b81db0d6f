import { readFile } from "node:fs/promises";
import { join } from "node:path";

const readme = join(import.meta.dir, "../../../README.md");

/** The dnsmasq block of the README's lab guide, found by its HTTP-boot lines, unchanged but for the interface (`br0`). */
export async function readmeDnsmasqConfig(): Promise<string> {
  const blocks = [...(await readFile(readme, "utf8")).matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const block = blocks.find((b) => b.includes("dhcp-vendorclass=set:httpboot,HTTPClient"));
  if (!block) throw new Error("README.md has no dnsmasq block with dhcp-vendorclass=set:httpboot,HTTPClient");
  if (!/^interface=\S+/m.test(block)) throw new Error("the README's dnsmasq block names no interface=");
  return block.replace(/^interface=\S+/m, "interface=br0");
}
