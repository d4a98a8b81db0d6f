import { expect, test } from "bun:test";
import { authHelp, resolveToken } from "../../src/github/token.ts";

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

test("gh is asked for the token of the API's own host", async () => {
  const asked: string[][] = [];
  const gh = async (command: readonly string[]) => (asked.push([...command]), "t");
  for (const apiUrl of [undefined, "https://api.github.com", "https://ghe.example.com/api/v3", "https://api.acme.ghe.com"]) await resolveToken({ env: env({}), apiUrl, gh });
  expect(asked).toEqual([
    ["gh", "auth", "token"],
    ["gh", "auth", "token"],
    ["gh", "auth", "token", "--hostname", "ghe.example.com"],
    ["gh", "auth", "token", "--hostname", "acme.ghe.com"],
  ]);
});

test("an Enterprise Server reads GH_ENTERPRISE_TOKEN and GITHUB_ENTERPRISE_TOKEN first, as gh does; github.com does not", async () => {
  const vars = env({ GH_ENTERPRISE_TOKEN: "ghe", GITHUB_ENTERPRISE_TOKEN: "ghe2", GITHUB_TOKEN: "dotcom" });
  expect(await resolveToken({ env: vars, apiUrl: "https://ghe.example.com/api/v3", gh: noGh })).toBe("ghe");
  expect(await resolveToken({ env: env({ GITHUB_ENTERPRISE_TOKEN: "ghe2", GITHUB_TOKEN: "x" }), apiUrl: "https://ghe.example.com/api/v3", gh: noGh })).toBe("ghe2");
  expect(await resolveToken({ env: vars, apiUrl: "https://api.github.com", gh: noGh })).toBe("dotcom");
  expect(await resolveToken({ env: vars, apiUrl: "https://api.acme.ghe.com", gh: noGh })).toBe("dotcom");
  expect(await resolveToken({ flag: "flag", env: vars, apiUrl: "https://ghe.example.com/api/v3", gh: noGh })).toBe("flag");
});

test("the help names the Enterprise host to log in to", () => {
  expect(authHelp("https://ghe.example.com/api/v3")).toContain("gh auth login --hostname ghe.example.com");
  expect(authHelp("https://ghe.example.com/api/v3")).toContain("GH_ENTERPRISE_TOKEN");
  expect(authHelp()).toContain("gh auth login   (");
});
