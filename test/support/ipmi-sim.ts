import { createSocket } from "node:dgram";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { quote } from "shell-quote";
import { type Child, run, startProcess } from "./processes.ts";
import { until } from "./until.ts";

/**
 * OpenIPMI's ipmi_sim as a server's BMC on loopback (the recipe of shared/notes/real-clients.md):
 * IPMI over LAN (lanplus, cipher suite 3) on a UDP port of its own, one admin user, and a
 * "machine" that is on while the process `startcmd` runs lives: a stand-in (`sleep`) for fast
 * driver tests, or QEMU with `ipmi-bmc-extern` on `vmPort` for end-to-end ones. Started and
 * stopped by pid, the machine's process included.
 */
export type IpmiSim = {
  readonly host: "127.0.0.1";
  /** UDP: what `ipmitool -p` and a lab file's `bmc = "127.0.0.1:PORT"` name. */
  readonly port: number;
  /** TCP, for QEMU's `-chardev socket,host=127.0.0.1,port=VMPORT,reconnect=10`. */
  readonly vmPort: number;
  readonly user: string;
  readonly password: string;
  readonly child: Child;
  /** The pid of the machine's process while it runs (its script writes it before exec). */
  machinePid(): number | undefined;
  /** `ipmitool -I lanplus … -E -C 3 ARGS`, the password by environment; for checks by the BMC's word. */
  ipmitool(args: string[], password?: string): ReturnType<typeof run>;
  /** "on" or "off", by the BMC's word. */
  power(): "on" | "off";
  /** Stops ipmi_sim and the machine's process, by pid. */
  stop(): Promise<void>;
};

export type IpmiSimOptions = {
  /** Folder for the configuration, the emulator's state and the machine's pid. */
  readonly dir: string;
  /** What `power on` starts (exec'd by a script; its process living is "on"). Default: sleep 600. */
  readonly machine?: readonly string[];
  readonly user?: string;
  readonly password?: string;
  /** Seconds `power off` lets the machine shut down before killing it (ipmi_sim's poweroff_wait). */
  readonly poweroffWaitS?: number;
  /** An `ipmi_sim` `sol` line value, e.g. "telnet:localhost:PORT" (for SOL consoles). */
  readonly sol?: string;
};

/**
 * Why ipmi_sim tests cannot run here, or undefined when they can. In CI (`CI=true`) a missing
 * tool throws instead, so the tests cannot quietly stop running there.
 */
export function ipmiSimProblem(): string | undefined {
  const missing = ["ipmi_sim", "ipmitool"].filter((c) => !Bun.which(c, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }));
  if (missing.length === 0) return undefined;
  const problem = `missing ${missing.join(", ")} (bash scripts/setup-test-host.sh installs openipmi and ipmitool)`;
  if (process.env.CI === "true") throw new Error(problem);
  return problem;
}

export async function startIpmiSim(options: IpmiSimOptions): Promise<IpmiSim> {
  const { dir } = options;
  const user = options.user ?? "admin";
  const password = options.password ?? `sim-${Math.random().toString(36).slice(2, 10)}`;
  const port = await freeUdpPort();
  const vmPort = freeTcpPort();
  const pidFile = join(dir, "machine.pid");
  const state = join(dir, "state");
  mkdirSync(state, { recursive: true });
  const script = join(dir, "machine.sh");
  // A config line is cut at 1024 bytes, hence a script; its pid file lets stop() find the machine.
  writeFileSync(script, `#!/bin/sh\necho $$ > ${quote([pidFile])}\nexec ${quote([...(options.machine ?? ["sleep", "600"])])}\n`, { mode: 0o755 });
  writeFileSync(
    join(dir, "lan.conf"),
    `name "sim"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  serial 15 127.0.0.1 ${vmPort} codec VM
  startcmd "${script}"
  startnow false
  poweroff_wait ${options.poweroffWaitS ?? 10}
  kill_wait 5
${options.sol ? `  sol "${options.sol}" 115200\n` : ""}  user 2 true "${user}" "${password}" admin 10 none md2 md5 straight
`,
  );
  writeFileSync(
    join(dir, "bmc.emu"),
    "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nsel_enable 0x20 1000 0x0a\nmc_enable 0x20\n",
  );
  // -n: no console on stdin (without it ipmi_sim needs a terminal or a FIFO held open).
  const child = startProcess(["ipmi_sim", "-n", "-c", join(dir, "lan.conf"), "-f", join(dir, "bmc.emu"), "-s", state], { name: "ipmi_sim" });
  const ipmitool = (args: string[], pw = password) =>
    run(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(port), "-U", user, "-E", "-C", "3", ...args], {
      env: { IPMI_PASSWORD: pw },
      allowFailure: true,
    });
  const machinePid = () => {
    try {
      const pid = Number(readFileSync(pidFile, "utf8"));
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  };
  const sim: IpmiSim = {
    host: "127.0.0.1",
    port,
    vmPort,
    user,
    password,
    child,
    machinePid,
    ipmitool,
    power() {
      const said = ipmitool(["chassis", "power", "status"]);
      const match = /Chassis Power is (on|off)/.exec(said.stdout);
      if (!match) throw new Error(`ipmi_sim's power status: ${said.stdout}${said.stderr}`);
      return match[1] as "on" | "off";
    },
    async stop() {
      // The machine first: it holds ipmi_sim's output pipes open while it runs (a run left on).
      const pid = machinePid();
      if (pid !== undefined) process.kill(pid, "SIGKILL");
      await child.stop();
    },
  };
  try {
    await until(() => ipmitool(["chassis", "power", "status"]).code === 0, `ipmi_sim answering on 127.0.0.1:${port}`, {
      hopeless: () => (child.running() ? undefined : "ipmi_sim exited"),
      context: () => child.output(),
    });
  } catch (error) {
    await sim.stop();
    throw error;
  }
  return sim;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.on("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

function freeTcpPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}
