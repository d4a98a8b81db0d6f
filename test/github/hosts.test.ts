import { expect, test } from "bun:test";
import { isAllowedRedirect, mayCarryToken } from "../../src/github/hosts.ts";

const api = new URL("https://api.github.com");
const ghe = new URL("https://ghe.example.com/api/v3");

test("GitHub's storage hosts are followed; look-alikes and other hosts are not", () => {
  for (const ok of ["https://objects.githubusercontent.com/x", "https://release-assets.githubusercontent.com/x", "https://github.com/x", "https://codeload.github.com/x", "https://github-production-release-asset-2e65be.s3.amazonaws.com/x"]) {
    expect(isAllowedRedirect(new URL(ok), api)).toBe(true);
  }
  for (const bad of ["https://evil.com/x", "https://githubusercontent.com.evil.com/x", "https://evilgithub.com/x", "https://s3.amazonaws.com/x", "http://objects.githubusercontent.com/x", "file:///etc/passwd"]) {
    expect(isAllowedRedirect(new URL(bad), api)).toBe(false);
  }
});

test("Enterprise: its storage may be on any https host (S3, Azure Blob, GCS, MinIO)", () => {
  for (const ok of ["https://ghe.example.com/storage/x", "https://media.ghe.example.com/x", "https://assets.s3.eu-west-1.amazonaws.com/x", "https://lab.blob.core.windows.net/x", "https://storage.googleapis.com/x", "https://minio.lab.internal:9000/x"]) {
    expect(isAllowedRedirect(new URL(ok), ghe)).toBe(true);
  }
  // GHE.com tenants are not github.com either: their storage is theirs.
  expect(isAllowedRedirect(new URL("https://files.example.net/x"), new URL("https://api.acme.ghe.com"))).toBe(true);
  for (const bad of ["http://minio.lab.internal/x", "file:///etc/passwd", "ftp://ghe.example.com/x"]) expect(isAllowedRedirect(new URL(bad), ghe)).toBe(false);
});

test("plain HTTP only when the API itself is plain HTTP (tests, a lab GHE), then to any host", () => {
  expect(isAllowedRedirect(new URL("http://127.0.0.1:9/x"), new URL("http://127.0.0.1:8/"))).toBe(true);
  expect(isAllowedRedirect(new URL("http://minio.lab:9000/x"), new URL("http://ghe.lab/api/v3"))).toBe(true);
  expect(isAllowedRedirect(new URL("http://ghe.example.com/x"), ghe)).toBe(false);
  expect(isAllowedRedirect(new URL("http://objects.githubusercontent.com/x"), api)).toBe(false);
});

test("the token goes to the API origin only: not another port, scheme or host", () => {
  expect(mayCarryToken(new URL("https://api.github.com/repos/x"), api)).toBe(true);
  expect(mayCarryToken(new URL("https://objects.githubusercontent.com/x"), api)).toBe(false);
  expect(mayCarryToken(new URL("http://127.0.0.1:9/x"), new URL("http://127.0.0.1:8/"))).toBe(false);
  expect(mayCarryToken(new URL("https://media.ghe.example.com/x"), ghe)).toBe(false);
});
