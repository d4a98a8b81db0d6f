import type { JobState } from "../core/job.ts";
import type { CounterValues } from "./counters.ts";

export type MetricsSnapshot = {
  readonly counts: Readonly<Record<JobState, number>>;
  readonly counters: CounterValues;
  /** Open `/api/events` streams. */
  readonly watchers: number;
  readonly version: string;
};

type Family = { name: string; help: string; type: "gauge" | "counter" | "summary"; samples: [labels: string, value: number][] };

/** The Prometheus text exposition format (version 0.0.4). */
export const metricsContentType = "text/plain; version=0.0.4; charset=utf-8";

export function metricsText(m: MetricsSnapshot): string {
  const families: Family[] = [
    { name: "dispatch_info", help: "dispatch's version.", type: "gauge", samples: [[`{version="${label(m.version)}"}`, 1]] },
    {
      name: "dispatch_jobs",
      help: "Jobs in each state.",
      type: "gauge",
      samples: Object.entries(m.counts).map(([state, n]) => [`{state="${state}"}`, n]),
    },
    { name: "dispatch_served_bytes_total", help: "Workload bytes sent to servers.", type: "counter", samples: [["", m.counters.servedBytes]] },
    { name: "dispatch_downloads_in_flight", help: "Workload downloads being served now.", type: "gauge", samples: [["", m.counters.downloadsInFlight]] },
    { name: "dispatch_reports_received_total", help: "Reports accepted from `beacon report`.", type: "counter", samples: [["", m.counters.reportsReceived]] },
    { name: "dispatch_reports_filed_total", help: "Reports filed as GitHub issues.", type: "counter", samples: [["", m.counters.issuesFiled]] },
    {
      name: "dispatch_report_filing_failures_total",
      help: "Failed attempts to file a report as an issue (each is retried).",
      type: "counter",
      samples: [["", m.counters.filingFailures]],
    },
    {
      name: "dispatch_beacon_refused_total",
      help: "`beacon boot` and `beacon report` calls answered 417 (not this dispatch's job), by call.",
      type: "counter",
      samples: [
        ['{call="boot"}', m.counters.refused.boot],
        ['{call="report"}', m.counters.refused.report],
      ],
    },
    {
      name: "dispatch_power_actions_total",
      help: "Lab power actions carried out through BMCs and power commands, by action and result.",
      type: "counter",
      samples: [...m.counters.power.actions].map(([key, n]) => {
        const [action, result] = key.split(" ");
        return [`{action="${label(action!)}",result="${label(result!)}"}`, n];
      }),
    },
    {
      name: "dispatch_power_action_seconds",
      help: "Time the BMC (or power command) took to carry out lab power actions.",
      type: "summary",
      samples: [
        ["_sum", m.counters.power.seconds],
        ["_count", m.counters.power.calls],
      ],
    },
    { name: "dispatch_status_watchers", help: "Open /api/events streams.", type: "gauge", samples: [["", m.watchers]] },
  ];
  return families
    .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.samples.map(([labels, v]) => `${f.name}${labels} ${v}`)].join("\n"))
    .join("\n")
    .concat("\n");
}

/** A label value with its backslashes, quotes and newlines escaped, as the format asks. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
