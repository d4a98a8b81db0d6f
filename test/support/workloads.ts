import type { FakeAsset } from "../fake-github/index.ts";

/** Deterministic bytes, so a test can tell one asset (and one offset) from another. */
export function pattern(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

export const efi = (name: string, size: number, seed = size): FakeAsset => ({ name, contentType: "application/vnd.dispatch+efi", data: pattern(size, seed) });
export const iso = (name: string, size: number, seed = size): FakeAsset => ({ name, contentType: "application/vnd.dispatch+iso", data: pattern(size, seed) });
export const img = (name: string, size: number, seed = size): FakeAsset => ({ name, contentType: "application/vnd.dispatch+img", data: pattern(size, seed) });
export const other = (name: string, size: number): FakeAsset => ({ name, contentType: "application/octet-stream", data: pattern(size, 1) });
