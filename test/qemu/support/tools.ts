/**
 * Where the system tools the firmware tests use live: some (mkfs.vfat, ip, dnsmasq) are in
 * sbin, which a non-root PATH often leaves out.
 */
export const toolPath = [process.env.PATH ?? "/usr/bin:/bin", "/usr/sbin", "/sbin"].join(":");

/** The environment of the tools the firmware tests start (nothing else of the test's). */
export const toolEnv = { PATH: toolPath, HOME: process.env.HOME ?? "/tmp" };

export const which = (tool: string): string | null => Bun.which(tool, { PATH: toolPath });

/** Runs a command to completion; throws with its output when it fails. */
export async function run(command: readonly string[]): Promise<string> {
  const proc = Bun.spawn([...command], { stdout: "pipe", stderr: "pipe", env: { ...process.env, PATH: toolPath } });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}: ${(err || out).trim()}`);
  return out;
}
