import type { JobState } from "../core/job.ts";

export const stateEmoji: Record<JobState, string> = {
  unassigned: "⏳",
  assigned: "📌",
  downloading: "📥",
  booting: "⚡",
  reported: "📝",
  finished: "🏁",
  failed: "❌",
};
