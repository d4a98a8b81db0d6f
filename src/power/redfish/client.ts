import type { Secret } from "../../lab/types.ts";
import type { FetchLike } from "../../runtime/tls-fetch.ts";
import { PowerError } from "../driver.ts";
import { statusError, transportError } from "./errors.ts";

/** How hard the client tries; every wait is bounded. */
export type ClientLimits = {
  /** One HTTP exchange. */
  readonly timeoutMs: number;
  /** More attempts after a 5xx or a connection error (GETs also after a timeout). */
  readonly retries: number;
  /** The first wait before a retry; doubled each time, at most 8 times. */
  readonly backoffMs: number;
};

export type Answer = {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON body, or undefined for none (204) or one that is not JSON. */
  readonly body: unknown;
};

/** How each call proves who it is: a session's token once logged in, else HTTP basic. */
type Auth = { readonly kind: "none" } | { readonly kind: "basic" } | { readonly kind: "session"; readonly token: Secret; readonly location: string };

export type RequestOptions = {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Statuses the caller handles itself (412, 428, 400…) instead of having them thrown. */
  readonly accept?: readonly number[];
  /** Sent without credentials (the service root, the login itself). */
  readonly anonymous?: boolean;
};

const transient = (status: number) => status >= 500 || status === 429;

/**
 * One BMC's Redfish service over HTTPS: resolves paths against the BMC's origin only (a
 * `Location` that points elsewhere is refused, so credentials never leave for another host),
 * bounds and retries every exchange, and maps failures to PowerError.
 */
export class RedfishClient {
  readonly origin: string;
  #auth: Auth = { kind: "none" };
  /** Set by the session layer: logs in again when a session expired mid-run. */
  relogin?: () => Promise<void>;

  constructor(
    bmc: string,
    private readonly user: string,
    private readonly password: Secret,
    private readonly fetch: FetchLike,
    readonly limits: ClientLimits,
    /** Counts calls, for the benchmark and metrics. */
    private readonly onCall: (method: string) => void = () => {},
  ) {
    const url = new URL(bmc);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new PowerError(`${bmc}: a Redfish BMC is an https:// address`, "unsupported");
    this.origin = url.origin; // user info and paths in the address are dropped, never sent
  }

  get auth(): Auth["kind"] {
    return this.#auth.kind;
  }

  useBasic(): void {
    this.#auth = { kind: "basic" };
  }

  useSession(token: Secret, location: string): void {
    this.#auth = { kind: "session", token, location };
  }

  /** The session's own address, for logging out. */
  sessionLocation(): string | undefined {
    return this.#auth.kind === "session" ? this.#auth.location : undefined;
  }

  /** An address on this BMC; throws for one on any other host. */
  resolve(pathOrUrl: string): string {
    const url = new URL(pathOrUrl, this.origin);
    if (url.origin !== this.origin) {
      throw new PowerError(`the BMC pointed to ${url.origin}, another host; dispatch talks to ${this.origin} only, so it was not followed`, "refused");
    }
    return url.href;
  }

  #headers(options: RequestOptions): Record<string, string> {
    const headers: Record<string, string> = { accept: "application/json", "odata-version": "4.0", ...options.headers };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (!options.anonymous) {
      if (this.#auth.kind === "session") headers["x-auth-token"] = this.#auth.token.reveal();
      else if (this.#auth.kind === "basic") headers.authorization = `Basic ${btoa(`${this.user}:${this.password.reveal()}`)}`;
    }
    return headers;
  }

  /** One call, retried on 5xx and connection errors with backoff; a 4xx not in `accept` throws. */
  async request(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<Answer> {
    const url = this.resolve(pathOrUrl);
    const what = `${method} ${new URL(url).pathname}`;
    let relogged = false;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.limits.retries;
      let answer: Answer;
      try {
        this.onCall(method);
        const response = await this.fetch(url, {
          method,
          headers: this.#headers(options),
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
          signal: AbortSignal.timeout(this.limits.timeoutMs),
        });
        const text = await response.text();
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        answer = { status: response.status, headers: response.headers, body };
      } catch (error) {
        if (error instanceof PowerError) throw error;
        const failure = transportError(what, error, this.limits.timeoutMs);
        // A timed-out change may have been applied: only reads are tried again after a timeout.
        const again = failure.retryable && (failure.error.kind !== "timeout" || method === "GET");
        if (!again || last) throw failure.error;
        await this.#backoff(attempt, undefined);
        continue;
      }
      if (answer.status === 401 && this.#auth.kind === "session" && this.relogin && !relogged && !options.anonymous) {
        relogged = true; // sessions time out on the BMC during long runs
        await this.relogin();
        continue;
      }
      if (transient(answer.status) && !last) {
        await this.#backoff(attempt, answer.headers.get("retry-after"));
        continue;
      }
      if (answer.status >= 400 && !options.accept?.includes(answer.status)) throw statusError(what, answer.status, answer.body);
      return answer;
    }
  }

  async #backoff(attempt: number, retryAfter: string | null | undefined): Promise<void> {
    const asked = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 0;
    const ms = Math.min(Math.max(asked, this.limits.backoffMs * 2 ** Math.min(attempt, 8)), 30_000);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
