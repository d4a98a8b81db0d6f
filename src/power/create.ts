import type { LabServer } from "../lab/types.ts";
import { commandDriver } from "./command.ts";
import type { PowerDriver } from "./driver.ts";
import { ipmiDriver, type IpmiDriverOptions } from "./ipmi.ts";
import type { DriverOptions } from "./options.ts";
import { redfishDriver } from "./redfish/index.ts";

/** The driver for a lab server's `power`, or undefined for a server without power control. */
export function createDriver(server: LabServer, options: DriverOptions & Pick<IpmiDriverOptions, "sessionTimeoutS" | "retries">): PowerDriver | undefined {
  const power = server.power;
  if (!power) return undefined;
  switch (power.kind) {
    case "ipmi":
      return ipmiDriver(power, options);
    case "command":
      return commandDriver(power, options);
    case "redfish":
      return redfishDriver(power, { ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) });
  }
}
