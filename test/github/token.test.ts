import { expect, test } from "bun:test";
import { resolveToken } from "../../src/github/token.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const noGh = async () => undefined;

test("order: --token, GITHUB_TOKEN, GH_TOKEN, then gh auth token", async () => {
  const gh = async () => "from-gh\n";
  expect(await resolveToken({ flag: "flag", env: env({ GITHUB_TOKEN: "a", GH_TOKEN: "b" }), gh })).toBe("flag");
  expect(await resolveToken({ env: env({ GITHUB_TOKEN: "a", GH_TOKEN: "b" }), gh })).toBe("a");
  expect(await resolveToken({ env: env({ GH_TOKEN: "b" }), gh })).toBe("b");
  expect(await resolveToken({ env: env({}), gh })).toBe("from-gh");
});

test("blank values do not count; nothing anywhere gives undefined", async () => {
  expect(await resolveToken({ flag: " ", env: env({ GITHUB_TOKEN: "" }), gh: noGh })).toBeUndefined();
  expect(await resolveToken({ env: env({ GITHUB_TOKEN: "  t  " }), gh: noGh })).toBe("t");
});
