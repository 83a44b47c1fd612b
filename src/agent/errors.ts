// Errors the agent shows to a person: each carries the exit code the command ends with. ApiError is an answer
// from the server (its AWS error code and message); NetworkError is a server that could not be reached or gave
// an answer that is not the API's.

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** The server could not be reached or answered badly; what had to be sent waits in the outbox. */
  unreachable: 3,
  /** The server refused the request (4xx): credentials, validation, access. */
  refused: 4,
  /** Another install is running (lock held). */
  busy: 5,
  /** The state directory could not be written (disk full, permissions). */
  state: 6,
} as const;

export class AgentError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.exitCode = exitCode;
  }
}

/** The server answered with an AWS error. */
export class ApiError extends AgentError {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly requestId: string | undefined;
  /** The server's message as sent (may span lines, e.g. SigV4's canonical request). */
  readonly apiMessage: string;
  constructor(code: string, apiMessage: string, status: number, requestId: string | undefined) {
    const retryable = status >= 500 || status === 429 || /Throttl|RequestLimitExceeded|TooManyRequests/i.test(code);
    super(`${code}: ${apiMessage}${requestId ? ` (request ${requestId})` : ''}`, retryable ? EXIT.unreachable : EXIT.refused);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.requestId = requestId;
    this.apiMessage = apiMessage;
  }

  /** `Code: first line of the message`, for a person. */
  get brief(): string {
    return `${this.code}: ${this.apiMessage.split('\n')[0]!.trim()}`;
  }
}

/** The server could not be reached, timed out, or answered with something that is not an API answer. */
export class NetworkError extends AgentError {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.unreachable, options);
    this.name = 'NetworkError';
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof NetworkError || (err instanceof ApiError && err.retryable);
}
