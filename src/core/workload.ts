import { type BootType, bootTypeOf } from "./content-types.ts";
import type { RuleTerms } from "./rule-terms.ts";

/** One queued release asset: what dispatch knows about it without asking GitHub again. */
export type Workload = {
  readonly name: string;
  readonly size: number;
  readonly bootType: BootType;
  /** Where the bytes are (the asset's API URL, a file's path); opaque to the core. */
  readonly source: string;
  /**
   * What tells this build from another of the same name and size (a file's modification time
   * and inode); the journal resumes only onto the same revisions. Unset for release assets.
   */
  readonly revision?: string;
  /** Where it may run and its limits, as its release asset's label says (`dispatch: tags=2p each`). */
  readonly labelTerms?: RuleTerms;
};

/** A release asset as the GitHub edge hands it over. */
export type AssetInfo = {
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
  readonly url: string;
  readonly revision?: string;
  /** The asset's label as uploaded (GitHub shows it in place of the name); it may carry placement terms. */
  readonly label?: string;
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
    workloads.push({ name: asset.name, size: asset.size, bootType, source: asset.url, ...(asset.revision !== undefined && { revision: asset.revision }) });
  }
  // Code-unit order, not locale order: the same queue on every machine.
  return workloads.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
