import favicon from "./favicon.svg" with { type: "text" };
import css from "./status.css" with { type: "text" };
import js from "./status.js" with { type: "text" };
import html from "./status-page.html" with { type: "text" };

/**
 * The status page and what it loads, read into the program at build time (`bun build
 * --compile` embeds text imports; Deno reads them the same way), so the page needs no file
 * beside the binary and nothing from the internet.
 */
export const webAssets = {
  "/": { body: html, type: "text/html; charset=utf-8" },
  "/assets/status.js": { body: js, type: "text/javascript; charset=utf-8" },
  "/assets/status.css": { body: css, type: "text/css; charset=utf-8" },
  "/assets/favicon.svg": { body: favicon, type: "image/svg+xml" },
} as const satisfies Record<string, { body: string; type: string }>;
