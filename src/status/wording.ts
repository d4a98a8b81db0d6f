import type { JobState } from "../core/job.ts";

/** Each state's sign, the same in the terminal, on the page, in log lines and in /api/status. */
export const stateEmoji: Record<JobState, string> = {
  unassigned: "⏳",
  assigned: "📌",
  downloading: "📥",
  booting: "⚡",
  reported: "📝",
  finished: "🏁",
  failed: "❌",
};

/** What a job's detail says, from its view (the JSON the page gets too). */
export type DetailFacts = {
  readonly state: JobState;
  readonly downloaded: boolean;
  readonly title: string | null;
  readonly reason: string | null;
  readonly error: string | null;
  readonly issue: { readonly number?: number; readonly url: string } | null;
  /** The servers the job may run on (its rule); null: any server. */
  readonly servers?: readonly string[] | null;
};

/**
 * What a person wants to know about a job in its state, said once for every view. `since`
 * adds how long ago the job entered a state, where a view shows that (the terminal).
 */
export function stateDetail(job: DetailFacts, since: (state: JobState) => string = () => ""): string {
  switch (job.state) {
    case "unassigned":
      // A short list says who it waits for; a long one is in the job's `servers` (API, page tooltip).
      if (job.servers && job.servers.length > 0) return job.servers.length <= 3 ? `waiting for ${job.servers.join(", ")}` : `waiting for one of its ${job.servers.length} servers`;
      return "waiting for a server";
    case "assigned":
      return `assigned${since("assigned")}, waiting for the download`;
    case "downloading":
      return job.downloaded ? "downloaded, waiting for `beacon boot`" : "downloading";
    case "booting":
      return `running${since("booting")}, waiting for the report`;
    case "reported":
      return job.error ? `filing failed, retrying: ${job.error}` : `filing "${job.title ?? ""}"`;
    case "finished":
      return job.issue ? `${job.issue.number === undefined ? "" : `#${job.issue.number} `}${job.issue.url}` : "filed";
    case "failed":
      return job.reason ?? "failed";
    default:
      return job.state satisfies never;
  }
}
