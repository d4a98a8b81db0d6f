/**
 * Opt-in content types. A release asset is queued only when it was uploaded with one of these;
 * the firmware decides how to boot a download from the type it is served with, so the
 * translation matters.
 */
export const bootTypes = {
  "application/vnd.dispatch+efi": "application/efi",
  "application/vnd.dispatch+iso": "application/vnd.efi-iso",
  "application/vnd.dispatch+img": "application/vnd.efi-img",
} as const;

export type DispatchType = keyof typeof bootTypes;
export type BootType = (typeof bootTypes)[DispatchType];

/**
 * A workload file's boot type from its name (`--dir`): `.efi`, `.iso`, `.img` in any case, the
 * same three types a release asset opts in with.
 */
const extensions: Readonly<Record<string, DispatchType>> = {
  efi: "application/vnd.dispatch+efi",
  iso: "application/vnd.dispatch+iso",
  img: "application/vnd.dispatch+img",
};

/** The dispatch content type a file name stands for, or undefined for other files. */
export function dispatchTypeOfFileName(name: string): DispatchType | undefined {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return undefined; // ".efi" alone is a hidden file, not a workload
  const extension = name.slice(dot + 1).toLowerCase();
  return Object.hasOwn(extensions, extension) ? extensions[extension] : undefined;
}

/** The type to serve an asset as, or undefined when the asset did not opt in. */
export function bootTypeOf(assetContentType: string): BootType | undefined {
  // Media types are case-insensitive and may carry parameters ("; charset=…").
  const bare = assetContentType.split(";")[0]!.trim().toLowerCase();
  return Object.hasOwn(bootTypes, bare) ? bootTypes[bare as DispatchType] : undefined;
}
