import { connect } from "node:net";
import { join } from "node:path";
import { startVm, type Vm } from "../qemu/support/vm.ts";
import type { EmulatedSystem } from "./system.ts";

/**
 * The emulated BMC's machine as an OVMF VM under QEMU (user network): power On starts QEMU with
 * the BMC's boot URL as the DHCP boot file, a reset is QMP `system_reset`, ForceOff kills QEMU,
 * and a guest that powers off (poweroff.efi: QEMU exits 0) is Off by the BMC's word.
 */
export type QemuSystem = EmulatedSystem & {
  /** The VM of the last power-on, if any. */
  vm(): Vm | undefined;
  /** QEMU's exit statuses, one per power-on that ended. */
  readonly exits: number[];
};

export function qemuSystem(options: { readonly name: string; readonly dir: string; readonly serialSocket?: string }): QemuSystem {
  let vm: Vm | undefined;
  let running = false;
  const exits: number[] = [];
  const qmpPath = join(options.dir, `${options.name}.qmp`);

  /** One QMP command over the VM's socket (greeting, qmp_capabilities, the command). */
  const qmp = (command: string) =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(qmpPath);
      const timer = setTimeout(() => socket.destroy(new Error(`QMP ${command}: no answer within 10 s`)), 10_000);
      let buffered = "";
      let step = 0;
      socket.on("data", (chunk) => {
        buffered += chunk.toString();
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const message = JSON.parse(buffered.slice(0, newline)) as { QMP?: unknown; return?: unknown; error?: { desc?: string } };
          buffered = buffered.slice(newline + 1);
          if (message.error) socket.destroy(new Error(`QMP ${command}: ${message.error.desc}`));
          else if (message.QMP && step === 0) socket.write(`${JSON.stringify({ execute: "qmp_capabilities" })}\n`), (step = 1);
          else if (message.return !== undefined && step === 1) socket.write(`${JSON.stringify({ execute: command })}\n`), (step = 2);
          else if (message.return !== undefined && step === 2) socket.end(), (step = 3);
        }
      });
      socket.on("error", (error) => (clearTimeout(timer), reject(error)));
      socket.on("close", () => (clearTimeout(timer), step === 3 ? resolve() : reject(new Error(`QMP ${command}: closed early`))));
    });

  return {
    vm: () => vm,
    exits,
    power: () => (running ? "On" : "Off"),
    async on(bootUrl) {
      if (running) return;
      // Without a boot URL the firmware's DHCP offer names none, and the VM finds nothing to boot.
      const started = await startVm({
        name: options.name,
        dir: options.dir,
        network: { kind: "user", bootUrl: bootUrl ?? "" },
        extraArgs: ["-qmp", `unix:${qmpPath},server=on,wait=off`],
        ...(options.serialSocket && { serialSocket: options.serialSocket }),
      });
      vm = started;
      running = true;
      void started.exited.then((code) => {
        exits.push(code);
        if (vm === started) running = false;
      });
    },
    async off() {
      await vm?.kill();
      running = false;
    },
    async reset() {
      if (running) await qmp("system_reset");
    },
  };
}
