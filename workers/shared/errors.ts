// The one error type: a status, a public code and a public message. Internal detail is logged, never sent.

export class EdgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Logged with the error, never sent to the client. */
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = "EdgeError";
  }
}

export function jsonResponse(body: unknown, status = 200, headers?: HeadersInit): Response {
  const response = Response.json(body, { status, headers });
  response.headers.set("Cache-Control", "no-store");
  return response;
}

/** Maps any thrown value to the contract's `{ error, message }` body; unknown errors become a bare 500. */
export function errorResponse(error: unknown, headers?: HeadersInit): Response {
  if (error instanceof EdgeError) {
    if (error.status >= 500 || error.detail !== undefined) {
      console.error(JSON.stringify({ event: "edge_error", code: error.code, status: error.status, detail: String(error.detail ?? "") }));
    }
    return jsonResponse({ error: error.code, message: error.message }, error.status, headers);
  }
  console.error(JSON.stringify({ event: "unhandled_error", error: error instanceof Error ? error.stack : String(error) }));
  return jsonResponse({ error: "internal_error", message: "internal error" }, 500, headers);
}
