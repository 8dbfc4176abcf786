import { authorizationHeader } from "./session";

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The name a response's `Content-Disposition: attachment; filename="…"` gives, else `fallback`. */
export function attachmentName(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename="([^"]+)"/);
  return match?.[1] ?? fallback;
}

/**
 * Fetches a download of the API with the session's credentials (a link cannot carry them)
 * and hands it to the browser as a file.
 */
export async function downloadFile(url: string, fallbackName: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { headers: authorizationHeader() });
  } catch {
    throw new DownloadError("Can't reach the server.", "NETWORK");
  }
  if (!response.ok) {
    let message = `Download failed (HTTP ${response.status}).`;
    let code = "INTERNAL";
    try {
      const body = (await response.json()) as { errors?: Array<{ message?: string; extensions?: { code?: string } }> };
      message = body.errors?.[0]?.message ?? message;
      code = body.errors?.[0]?.extensions?.code ?? code;
    } catch {
      // not JSON: keep the status
    }
    throw new DownloadError(message, code);
  }
  const name = attachmentName(response.headers.get("content-disposition"), fallbackName);
  const href = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = href;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
  return name;
}
