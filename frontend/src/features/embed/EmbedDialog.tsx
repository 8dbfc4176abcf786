import { Code2, Copy, Plus } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { describeError, errorCode } from "../../api/errors";
import type { PublishableTokensQuery } from "../../gql/graphql";
import { Badge } from "../../ui/Badge";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { FieldShell, inputClass } from "../../ui/Field";
import { ErrorState } from "../../ui/States";
import { fullTime, timeAgo } from "../../ui/time";
import { CreatePublishableTokenMutation, PublishableTokensQuery as TokensQuery, RevokeEmbedTokenMutation } from "./operations";
import { embedSnippet, originsFrom } from "./snippet";

type EmbedToken = PublishableTokensQuery["publishableTokens"][number];

/** A stack's embedded chat: the snippet for a website, with a publishable token made for the
 * sites listed, and the tokens made so far (revocable). */
export function EmbedDialog({ stackId, published, onClose }: { stackId: string; published: boolean; onClose: () => void }) {
  const [snippet, setSnippet] = useState<string | null>(null);
  return (
    <Dialog
      open
      onClose={onClose}
      size="lg"
      title={
        <span className="flex items-center gap-2">
          <Code2 className="size-4 text-brand-600" aria-hidden /> Embed on a website
        </span>
      }
      description="A chat bubble for this stack on any site. Its token is publishable: it only chats with this stack's published version, from the sites you list, at its own rate limit."
      bodyClassName="max-h-[70vh] space-y-5 overflow-y-auto"
      footer={<Button onClick={onClose}>Close</Button>}
    >
      {!published ? (
        <p role="status" className="rounded-xl bg-amber-50 px-4 py-3 text-sm text-amber-900">
          Build the stack first: an embedded chat answers from the published version.
        </p>
      ) : snippet ? (
        <Snippet snippet={snippet} onDone={() => setSnippet(null)} />
      ) : (
        <NewEmbedForm stackId={stackId} onCreated={(token) => setSnippet(embedSnippet(window.location.origin, stackId, token))} />
      )}
      <EmbedTokens stackId={stackId} />
    </Dialog>
  );
}

function NewEmbedForm({ stackId, onCreated }: { stackId: string; onCreated: (token: string) => void }) {
  const [name, setName] = useState("Website");
  const [sites, setSites] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, create] = useMutation(CreatePublishableTokenMutation);
  const origins = originsFrom(sites);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await create({ stackId, name: name.trim(), allowedOrigins: origins });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error, "create the snippet") : "Couldn't create the snippet.");
      return;
    }
    setError(null);
    onCreated(result.data.createPublishableToken.token);
  }

  return (
    <form onSubmit={submit} aria-label="New embed" className="space-y-4">
      <FieldShell id="embed-name" label="Name" hint="Where it goes, e.g. “Help center”." required>
        <input id="embed-name" required maxLength={100} className={inputClass} value={name} onChange={(e) => setName(e.target.value)} />
      </FieldShell>
      <FieldShell
        id="embed-sites"
        label="Sites allowed"
        hint="One per line, as the address bar shows the site: https://www.example.com (with its port if it has one). Pages elsewhere get “this site is not allowed”."
        required
      >
        <textarea
          id="embed-sites"
          required
          rows={3}
          className={inputClass}
          placeholder="https://www.example.com"
          value={sites}
          onChange={(e) => setSites(e.target.value)}
          aria-invalid={error ? true : undefined}
        />
      </FieldShell>
      {error && (
        <p role="alert" className="text-sm text-red-600">
          {error}
        </p>
      )}
      <Button type="submit" variant="primary" icon={<Plus className="size-4" />} loading={fetching} disabled={!name.trim() || origins.length === 0}>
        Create snippet
      </Button>
    </form>
  );
}

function Snippet({ snippet, onDone }: { snippet: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <section aria-label="Embed snippet" className="space-y-3 rounded-2xl border border-emerald-200 bg-emerald-50 p-4">
      <p className="text-sm font-medium text-emerald-900">
        Paste this before <code>&lt;/body&gt;</code> on your site's pages. Copy it now: its token is not shown again (make another snippet any time).
      </p>
      <pre data-testid="embed-snippet" className="rounded-lg bg-white px-3 py-2 font-mono text-[12.5px] break-all whitespace-pre-wrap text-slate-900">
        {snippet}
      </pre>
      <p className="text-xs text-emerald-900">
        Optional: <code>data-title</code>, <code>data-greeting</code>, <code>data-theme="light"</code> or <code>"dark"</code> (else the visitor's preference).
      </p>
      <div className="flex gap-2">
        <Button
          icon={<Copy className="size-4" />}
          onClick={() => {
            void navigator.clipboard?.writeText(snippet).then(() => setCopied(true));
          }}
        >
          {copied ? "Copied" : "Copy snippet"}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Done
        </Button>
      </div>
    </section>
  );
}

// an empty list names no ApiToken: a new one must still refresh it
const LIST_CONTEXT = { additionalTypenames: ["ApiToken"] };

function EmbedTokens({ stackId }: { stackId: string }) {
  const [{ data, error }, refetch] = useQuery({ query: TokensQuery, variables: { stackId }, requestPolicy: "cache-and-network", context: LIST_CONTEXT });
  const [revoking, setRevoking] = useState<string | null>(null);
  const [, revoke] = useMutation(RevokeEmbedTokenMutation);

  if (error && !data) {
    const admins = errorCode(error) === "FORBIDDEN";
    return (
      <ErrorState
        title={admins ? "Only the workspace's admins can embed this stack" : "Couldn't list this stack's embeds"}
        detail={admins ? undefined : describeError(error)}
        onRetry={admins ? undefined : () => refetch({ requestPolicy: "network-only" })}
      />
    );
  }
  const tokens = data?.publishableTokens ?? [];
  if (tokens.length === 0) return null;
  return (
    <section aria-labelledby="embed-tokens" className="space-y-2">
      <h3 id="embed-tokens" className="text-[13px] font-semibold text-slate-700">
        Snippets made for this stack
      </h3>
      <ul className="divide-y divide-slate-100 rounded-xl border border-slate-200">
        {tokens.map((token: EmbedToken) => (
          <li key={token.id} className="flex items-start gap-3 px-3 py-2.5 text-sm">
            <div className="min-w-0 flex-1">
              <p className="font-medium text-slate-900">{token.name}</p>
              <p className="text-slate-600 break-all">{(token.allowedOrigins ?? []).join(", ")}</p>
              <p className="text-xs text-slate-500">
                <span title={fullTime(token.createdAt)}>Made {timeAgo(token.createdAt)}</span> ·{" "}
                {token.lastUsedAt ? `last used ${timeAgo(token.lastUsedAt)}` : "never used"}
              </p>
            </div>
            {token.revokedAt ? (
              <Badge>Revoked</Badge>
            ) : (
              <Button
                size="sm"
                variant="secondary"
                loading={revoking === token.id}
                aria-label={`Revoke ${token.name}`}
                onClick={async () => {
                  setRevoking(token.id);
                  await revoke({ id: token.id });
                  setRevoking(null);
                  refetch({ requestPolicy: "network-only" });
                }}
              >
                Revoke
              </Button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
