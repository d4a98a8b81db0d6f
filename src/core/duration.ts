/** "1h2m", "5m", "30s", "250ms": short, for log lines and failure reasons. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return [h && `${h}h`, m && `${m}m`, sec && `${sec}s`].filter(Boolean).join("") || "0s";
}

/** "90s", "5m", "1h30m", "250ms", or a bare number of seconds → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new Error(`${flag} "${value}" is not a duration: use e.g. 90s, 5m or 1h30m`);
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * units[unit!]!, 0);
}
