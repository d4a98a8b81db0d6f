#!/usr/bin/env bun
/**
 * Makes the load-option test data from real firmware: OVMF in QEMU writes its boot options,
 * then they are read back out of the VM's varstore file and written as efivarfs shows them
 * (4 bytes of attributes, then the value) into the folder given.
 *
 *   bun scripts/capture-ovmf-boot-options.ts test/beacon/data/ovmf-dhcp
 *     boots once over HTTP, the URL by DHCP (QEMU's user network), from a loopback server that
 *     hands it poweroff.efi: the options OVMF makes by itself.
 *   bun scripts/capture-ovmf-boot-options.ts test/beacon/data/ovmf-uri --uri http://192.0.2.1:8080/dispatch
 *     enters the setup UI over the serial console and types URI into Device Manager → Network
 *     Device List → MAC → HTTP Boot Configuration → Boot URI, then saves: OVMF adds a boot
 *     option whose URI node holds it, as a user (or a BMC) setting a boot URI makes one; the
 *     whole varstore is kept as OVMF_VARS.fd beside the variables.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poweroffEfi } from "../src/efi/poweroff.ts";
import { readVarstore } from "../test/beacon/support/varstore.ts";
import { ovmfVars, qemuArgs, startVm } from "../test/qemu/support/vm.ts";

const GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
const out = process.argv[2];
const uriFlag = process.argv.indexOf("--uri");
const uri = uriFlag > 0 ? process.argv[uriFlag + 1] : undefined;
if (!out || (uriFlag > 0 && !uri)) throw new Error("usage: bun scripts/capture-ovmf-boot-options.ts OUTPUT_DIR [--uri URI]");

const dir = await mkdtemp(join(tmpdir(), "dispatch-capture-"));
try {
  const vars = uri ? await setUpUri(uri) : await bootByDhcp();
  await mkdir(out, { recursive: true });
  // The whole varstore too, for a VM to start from: the firmware with its boot URI already set.
  if (uri) await writeFile(join(out, "OVMF_VARS.fd"), await readFile(vars));
  for (const v of readVarstore(new Uint8Array(await readFile(vars)))) {
    if (v.guid !== GLOBAL || !/^Boot([0-9A-F]{4}|Order)$/.test(v.name)) continue;
    const file = new Uint8Array(4 + v.data.length);
    new DataView(file.buffer).setUint32(0, v.attributes, true);
    file.set(v.data, 4);
    await writeFile(join(out, `${v.name}-${v.guid}`), file);
    console.log(`${v.name}: ${v.data.length} bytes`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** One HTTP boot with the URL from DHCP; the varstore afterwards. */
async function bootByDhcp(): Promise<string> {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) =>
      new Response(req.method === "HEAD" ? null : poweroffEfi, {
        headers: { "content-type": "application/efi", "content-length": String(poweroffEfi.length) },
      }),
  });
  try {
    const vm = await startVm({ name: "capture", dir, network: { kind: "user", bootUrl: `http://10.0.2.2:${server.port}/dispatch` } });
    const code = await Promise.race([vm.exited, Bun.sleep(120_000).then(() => "timeout" as const)]);
    if (code !== 0) {
      await vm.kill();
      throw new Error(`QEMU did not power off (${code}):\n${(await vm.serial()).join("\n")}`);
    }
    return join(dir, "capture-vars.fd");
  } finally {
    server.stop(true);
  }
}

/** The setup UI, driven over the serial console: each key waits for the screen text it needs. */
async function setUpUri(uri: string): Promise<string> {
  const vars = join(dir, "vars.fd");
  await writeFile(vars, await readFile(ovmfVars));
  const socketPath = join(dir, "serial.sock");
  const args = qemuArgs({ name: "capture", dir, network: { kind: "user", bootUrl: "http://10.0.2.2:9/none" } }, vars, "unused");
  const serialAt = args.indexOf("-serial");
  args.splice(serialAt, 2, "-chardev", `socket,id=s0,path=${socketPath},server=on,wait=on`, "-serial", "chardev:s0");
  const qemu = Bun.spawn(args, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  try {
    let socket: Socket | undefined;
    for (let i = 0; i < 100 && !socket; i++) {
      socket = await new Promise<Socket | undefined>((resolve) => {
        const s = connect(socketPath);
        s.once("connect", () => resolve(s));
        s.once("error", () => resolve(undefined));
      });
      if (!socket) await Bun.sleep(100);
    }
    if (!socket) throw new Error("QEMU's serial socket did not open");
    // Raw terminal output since the last wait; escape sequences may span chunks, so they go when read.
    let raw = "";
    socket.on("data", (d: Buffer) => (raw += d.toString("latin1")));
    const screen = () => raw.replace(/\x1b\[[0-9;?=]*[A-Za-z]/g, " ").replace(/\s+/g, " ");
    const key = (k: string) => socket.write(k);
    const DOWN = "\x1b[B";
    const waitFor = async (text: string, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!screen().includes(text)) {
        if (Date.now() > deadline) throw new Error(`the setup UI did not show "${text}"; last screen: ${screen().slice(-1500)}`);
        await Bun.sleep(100);
      }
      await Bun.sleep(700); // the firmware draws the rest of the page
      raw = "";
    };
    // ESC while the firmware starts opens the setup UI (its front page).
    for (let i = 0; i < 120 && !screen().includes("Device Manager"); i++) (key("\x1b"), await Bun.sleep(250));
    await waitFor("Device Manager");
    key(DOWN);
    await waitFor("This selection will take you to the Device Manager");
    key("\r");
    await waitFor("Network Device List");
    for (let i = 0; i < 6; i++) key(DOWN);
    await waitFor("Select the network device according the MAC address");
    key("\r");
    await waitFor("MAC:");
    key("\r");
    await waitFor("HTTP Boot Configuration");
    for (let i = 0; i < 3; i++) key(DOWN);
    await waitFor("Configure HTTP Boot parameters");
    key("\r");
    await waitFor("Boot URI");
    key(DOWN), key(DOWN);
    await waitFor("F10=Save");
    key("\r");
    await Bun.sleep(1500);
    for (const ch of uri) (key(ch), await Bun.sleep(120)); // the serial line drops keys typed faster
    key("\r");
    await waitFor("A new Boot Option will be created");
    key("\x1b");
    await waitFor("Save Changes and exit?");
    key("Y");
    await waitFor("HTTP Boot Configuration");
    socket.end();
  } finally {
    qemu.kill("SIGKILL");
    await qemu.exited;
  }
  return vars;
}
