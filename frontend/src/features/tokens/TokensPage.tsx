import { Copy, KeyRound, Plus } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { describeError } from "../../api/errors";
import type { ApiTokensQuery as ApiTokensResult, TokenScope } from "../../gql/graphql";
import { Badge } from "../../ui/Badge";
import { Button } from "../../ui/Button";
import { FieldShell, inputClass, selectClass } from "../../ui/Field";
import { EmptyState, ErrorState } from "../../ui/States";
import { fullTime, timeAgo } from "../../ui/time";
import { AdminPage } from "../admin/AdminPage";
import { BudgetPanel } from "../budget/BudgetPanel";
import { ApiTokensQuery, CreateApiTokenMutation, RevokeApiTokenMutation } from "./operations";

type Token = ApiTokensResult["apiTokens"][number];

const SCOPES: Array<{ scope: TokenScope; label: string }> = [
  { scope: "READ", label: "Read stacks and their history" },
  { scope: "CHAT", label: "Chat" },
  { scope: "EDIT", label: "Edit, upload and publish" },
];

const LIFETIMES: Array<{ days: number | null; label: string }> = [
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
  { days: null, label: "Never expires" },
];

export function expiryFrom(days: number | null, now: Date): string | null {
  return days === null ? null : new Date(now.getTime() + days * 86_400_000).toISOString();
}

function NewTokenForm({ workspaceId, onCreated }: { workspaceId: string; onCreated: (token: string) => void }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<TokenScope[]>(["READ"]);
  const [days, setDays] = useState<number | null>(90);
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, create] = useMutation(CreateApiTokenMutation);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await create({ workspaceId, name: name.trim(), scopes, expiresAt: expiryFrom(days, new Date()) });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error, "create the token") : "Couldn't create the token.");
      return;
    }
    setError(null);
    setName("");
    onCreated(result.data.createApiToken.token);
  }

  const toggle = (scope: TokenScope) => setScopes((now) => (now.includes(scope) ? now.filter((s) => s !== scope) : [...now, scope]));

  return (
    <form onSubmit={submit} aria-label="New token" className="space-y-4 rounded-2xl border border-slate-200 bg-white p-5">
      <FieldShell id="token-name" label="Name" hint="What uses it, e.g. “nightly import”." required>
        <input id="token-name" required maxLength={100} className={inputClass} value={name} onChange={(e) => setName(e.target.value)} />
      </FieldShell>
      <fieldset className="space-y-1.5">
        <legend className="text-[13px] font-medium text-slate-700">May</legend>
        {SCOPES.map(({ scope, label }) => (
          <label key={scope} className="flex items-center gap-2 text-sm text-slate-700">
            <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} />
            {label}
          </label>
        ))}
      </fieldset>
      <FieldShell id="token-expiry" label="Expires">
        <select id="token-expiry" className={selectClass} value={String(days)} onChange={(e) => setDays(e.target.value === "null" ? null : Number(e.target.value))}>
          {LIFETIMES.map(({ days: d, label }) => (
            <option key={label} value={String(d)}>
              {label}
            </option>
          ))}
        </select>
      </FieldShell>
      {error && (
        <p role="alert" className="text-sm text-red-600">
          {error}
        </p>
      )}
      <Button type="submit" variant="primary" icon={<Plus className="size-4" />} loading={fetching} disabled={scopes.length === 0 || !name.trim()}>
        Create token
      </Button>
    </form>
  );
}

function ShownOnce({ token, onDone }: { token: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <section aria-label="New token" className="space-y-3 rounded-2xl border border-emerald-200 bg-emerald-50 p-5">
      <p className="text-sm font-medium text-emerald-900">Copy your new token now: it won't be shown again.</p>
      <code data-testid="new-token" className="block rounded-lg bg-white px-3 py-2 font-mono text-[13px] break-all text-slate-900">
        {token}
      </code>
      <div className="flex gap-2">
        <Button
          icon={<Copy className="size-4" />}
          onClick={() => {
            void navigator.clipboard?.writeText(token).then(() => setCopied(true));
          }}
        >
          {copied ? "Copied" : "Copy"}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Done
        </Button>
      </div>
    </section>
  );
}

function TokenRow({ token, onRevoke, revoking }: { token: Token; onRevoke: () => void; revoking: boolean }) {
  const expired = token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.now();
  return (
    <tr className="border-t border-slate-100">
      <td className="py-2.5 pr-3 font-medium text-slate-900">{token.name}</td>
      <td className="py-2.5 pr-3 text-slate-600">
        {token.allowedOrigins ? (
          <span title={token.allowedOrigins.join("\n")}>
            <Badge tone="amber">embed</Badge> chat on {token.allowedOrigins.length === 1 ? token.allowedOrigins[0] : `${token.allowedOrigins.length} sites`}
          </span>
        ) : (
          token.scopes.map((s) => s.toLowerCase()).join(", ")
        )}
      </td>
      <td className="py-2.5 pr-3 text-slate-500" title={fullTime(token.createdAt)}>
        {timeAgo(token.createdAt)}
      </td>
      <td className="py-2.5 pr-3 text-slate-500">{token.lastUsedAt ? timeAgo(token.lastUsedAt) : "Never used"}</td>
      <td className="py-2.5 pr-3 text-slate-500">{token.expiresAt ? fullTime(token.expiresAt) : "Never"}</td>
      <td className="py-2.5 text-right">
        {token.revokedAt ? (
          <Badge>Revoked</Badge>
        ) : expired ? (
          <Badge>Expired</Badge>
        ) : (
          <Button size="sm" variant="secondary" loading={revoking} onClick={onRevoke} aria-label={`Revoke ${token.name}`}>
            Revoke
          </Button>
        )}
      </td>
    </tr>
  );
}

function WorkspaceTokens({ workspaceId }: { workspaceId: string }) {
  const [{ data, error }, refetch] = useQuery({ query: ApiTokensQuery, variables: { workspaceId }, requestPolicy: "cache-and-network" });
  const [shown, setShown] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);
  const [, revoke] = useMutation(RevokeApiTokenMutation);
  const reload = () => refetch({ requestPolicy: "network-only" });

  if (error && !data) return <ErrorState title="Couldn't load the tokens" detail={describeError(error)} onRetry={reload} />;
  const tokens = data?.apiTokens ?? [];
  return (
    <div className="space-y-6">
      {shown ? (
        <ShownOnce token={shown} onDone={() => setShown(null)} />
      ) : (
        <NewTokenForm
          workspaceId={workspaceId}
          onCreated={(token) => {
            setShown(token);
            reload();
          }}
        />
      )}
      {tokens.length === 0 ? (
        <EmptyState icon={<KeyRound className="size-7" />} title="No tokens yet" detail="A token lets a program use the API with the rights you give it." />
      ) : (
        <table className="w-full text-left text-sm" aria-label="Tokens">
          <thead className="text-xs text-slate-500">
            <tr>
              <th className="pb-2 font-medium">Name</th>
              <th className="pb-2 font-medium">May</th>
              <th className="pb-2 font-medium">Created</th>
              <th className="pb-2 font-medium">Last used</th>
              <th className="pb-2 font-medium">Expires</th>
              <th className="pb-2" />
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <TokenRow
                key={token.id}
                token={token}
                revoking={revoking === token.id}
                onRevoke={async () => {
                  setRevoking(token.id);
                  await revoke({ id: token.id });
                  setRevoking(null);
                  reload();
                }}
              />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Tokens for programs, per workspace the user administers: created (shown once) and revoked. */
export function TokensPage() {
  return (
    <AdminPage
      title="API tokens"
      selectId="token-workspace"
      empty={{ icon: <KeyRound className="size-7" />, title: "Only admins manage tokens", detail: "Ask an admin of your workspace for a token." }}
    >
      {(workspaceId) => (
        <>
          <BudgetPanel key={`budget-${workspaceId}`} workspaceId={workspaceId} />
          <WorkspaceTokens key={workspaceId} workspaceId={workspaceId} />
        </>
      )}
    </AdminPage>
  );
}
