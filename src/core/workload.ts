import { type BootType, bootTypeOf } from "./content-types.ts";

/** One queued release asset: what dispatch knows about it without asking GitHub again. */
export type Workload = {
  readonly name: string;
  readonly size: number;
  readonly bootType: BootType;
  /** The API URL of the asset; opaque to the core. */
  readonly source: string;
};

/** A release asset as the GitHub edge hands it over. */
export type AssetInfo = {
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
  readonly url: string;
};

/**
 * The queue: assets with a dispatch content type whose name contains any filter (all of them
 * when there is no filter), ordered by name.
 */
export function selectWorkloads(assets: readonly AssetInfo[], filters: readonly string[]): Workload[] {
  const workloads: Workload[] = [];
  for (const asset of assets) {
    const bootType = bootTypeOf(asset.contentType);
    if (!bootType) continue;
    if (filters.length > 0 && !filters.some((f) => asset.name.includes(f))) continue;
    workloads.push({ name: asset.name, size: asset.size, bootType, source: asset.url });
  }
  // Code-unit order, not locale order: the same queue on every machine.
  return workloads.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
