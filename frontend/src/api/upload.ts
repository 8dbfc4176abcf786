import { print, type ExecutionResult } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { authorizationHeader } from "./session";

export interface UploadProgress {
  loaded: number;
  total: number;
}

export class UploadError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * Sends one file by the GraphQL multipart request spec. XHR rather than fetch because only XHR
 * reports upload progress; the preflight header is the backend's CSRF guard.
 */
export function uploadFile<TData, TVars extends Record<string, unknown>>(
  document: TypedDocumentNode<TData, TVars>,
  variables: TVars,
  fileVariable: keyof TVars & string,
  file: File,
  onProgress: (progress: UploadProgress) => void,
  url = "/graphql",
): Promise<TData> {
  const form = new FormData();
  form.append("operations", JSON.stringify({ query: print(document), variables: { ...variables, [fileVariable]: null } }));
  form.append("map", JSON.stringify({ "0": [`variables.${fileVariable}`] }));
  form.append("0", file, file.name);

  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Apollo-Require-Preflight", "true");
    for (const [name, value] of Object.entries(authorizationHeader())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onerror = () => reject(new UploadError("Can't reach the server.", "NETWORK"));
    xhr.onload = () => {
      let body: ExecutionResult<TData> | undefined;
      try {
        body = JSON.parse(xhr.responseText) as ExecutionResult<TData>;
      } catch {
        const code = xhr.status === 413 ? "PAYLOAD_TOO_LARGE" : xhr.status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "INTERNAL";
        reject(new UploadError(xhr.status === 413 ? "The file is too large." : `Upload failed (HTTP ${xhr.status}).`, code));
        return;
      }
      const error = body.errors?.[0];
      if (error || !body.data) {
        const code = (error?.extensions?.code as string | undefined) ?? "INTERNAL";
        reject(new UploadError(error?.message ?? "Upload failed.", code));
        return;
      }
      resolve(body.data);
    };
    xhr.send(form);
  });
}
