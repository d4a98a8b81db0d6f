import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LabError, readLab } from "../../src/lab/read.ts";
import { bunRuntime } from "../../src/runtime/bun/index.ts";
import { denoLaunch } from "../runtime/deno-launch.ts";
import { run } from "../support/processes.ts";

// The same lab files read under Deno give the same lab, and the same problems, as under Bun.

const launch = denoLaunch({ BMC_PASSWORD: "from-env" });
const dir = mkdtempSync(join(tmpdir(), "dispatch-lab-deno-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = {
  good: `power_on_spacing = "2s"
[defaults]
user = "admin"
password_env = "BMC_PASSWORD"
[[server]]
name = "r"
ip = "192.0.2.1"
power = "redfish"
bmc = "10.0.0.1"
[[server]]
name = "i"
mac = "52:54:00:00:00:02"
power = "ipmi"
bmc = "10.0.0.2:6230"
cipher = 3
[[server]]
name = "c"
ip = "192.0.2.3"
power = "command"
on = "virsh start 'vm 3'"
off = "virsh destroy 'vm 3'"
cycle = "virsh reset 'vm 3'"
`,
  bad: `[[server]]\nname = "x"\nip = "192.0.2.1"\npower = "comand"\n[[server]]\nname = "x"\nip = "192.0.2.1"\nstate = "a | b"\n`,
};

describe.skipIf(!launch)("the lab file under Deno", () => {
  for (const [name, text] of Object.entries(files)) {
    test(`${name} file: the same as under Bun`, async () => {
      const file = join(dir, `${name}.toml`);
      writeFileSync(file, text);
      const underBun = await readLab(file, { env: (n) => (n === "BMC_PASSWORD" ? "from-env" : undefined), readText: bunRuntime.files.readText }).then(
        (lab) => JSON.parse(JSON.stringify(lab)),
        (error: LabError) => ({ problems: error.problems }),
      );
      const { stdout } = run([...launch!.command.slice(0, 3), join(import.meta.dir, "read-under-deno.ts"), file], { env: launch!.env, timeoutMs: 30_000 });
      expect(JSON.parse(stdout)).toEqual(underBun);
      // Three servers, or four problems: the power kind, the pipe, the name and address given twice.
      expect(underBun.servers?.length ?? underBun.problems.length).toBe(name === "good" ? 3 : 4);
    });
  }
});
