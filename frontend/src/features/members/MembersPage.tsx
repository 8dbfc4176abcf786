import { Copy, UserPlus, Users } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { describeError } from "../../api/errors";
import { graphql } from "../../gql";
import type { Role } from "../../gql/graphql";
import { Button } from "../../ui/Button";
import { FieldShell, inputClass, selectClass } from "../../ui/Field";
import { ErrorState } from "../../ui/States";
import { AdminPage } from "../admin/AdminPage";

export const MembersQuery = graphql(`
  query Members($id: UUID!) {
    workspace(id: $id) {
      id
      members {
        userId
        email
        role
      }
      invitations {
        id
        role
        email
      }
    }
  }
`);

export const InviteMemberMutation = graphql(`
  mutation InviteMember($workspaceId: UUID!, $role: Role!, $email: String) {
    inviteMember(workspaceId: $workspaceId, role: $role, email: $email) {
      id
      token
    }
  }
`);

const ROLES: Array<{ role: Role; label: string }> = [
  { role: "VIEWER", label: "Viewer: open, chat, read history" },
  { role: "EDITOR", label: "Editor: also edit, upload, publish" },
  { role: "ADMIN", label: "Admin: also members, tokens, audit" },
];

/** The link an invitation's token opens. */
export function invitationLink(origin: string, token: string): string {
  return `${origin}/invite?token=${encodeURIComponent(token)}`;
}

function InviteForm({ workspaceId, onInvited }: { workspaceId: string; onInvited: (link: string) => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("VIEWER");
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, invite] = useMutation(InviteMemberMutation);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await invite({ workspaceId, role, email: email.trim() || null });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error, "invite") : "Couldn't invite.");
      return;
    }
    setError(null);
    setEmail("");
    onInvited(invitationLink(window.location.origin, result.data.inviteMember.token));
  }

  return (
    <form onSubmit={submit} aria-label="Invite" className="grid gap-3 rounded-2xl border border-slate-200 bg-white p-5 md:grid-cols-[1fr_1fr_auto] md:items-end">
      <FieldShell id="invite-email" label="Email (optional)">
        <input id="invite-email" type="email" maxLength={254} className={inputClass} value={email} onChange={(e) => setEmail(e.target.value)} />
      </FieldShell>
      <FieldShell id="invite-role" label="Role">
        <select id="invite-role" className={selectClass} value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r.role} value={r.role}>
              {r.label}
            </option>
          ))}
        </select>
      </FieldShell>
      <Button type="submit" variant="primary" icon={<UserPlus className="size-4" />} loading={fetching}>
        Invite
      </Button>
      {error && (
        <p role="alert" className="text-sm text-red-600 md:col-span-3">
          {error}
        </p>
      )}
    </form>
  );
}

function WorkspaceMembers({ workspaceId }: { workspaceId: string }) {
  const [{ data, error }, refetch] = useQuery({ query: MembersQuery, variables: { id: workspaceId }, requestPolicy: "cache-and-network" });
  const [link, setLink] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  if (error && !data) return <ErrorState title="Couldn't load the members" detail={describeError(error)} />;
  const workspace = data?.workspace;
  return (
    <div className="space-y-6">
      <InviteForm
        workspaceId={workspaceId}
        onInvited={(made) => {
          setLink(made);
          setCopied(false);
          refetch({ requestPolicy: "network-only" });
        }}
      />
      {link && (
        <section aria-label="Invitation link" className="space-y-3 rounded-2xl border border-emerald-200 bg-emerald-50 p-5">
          <p className="text-sm font-medium text-emerald-900">Send this link to the person you invite: it works once, and won't be shown again.</p>
          <code data-testid="invitation-link" className="block rounded-lg bg-white px-3 py-2 font-mono text-[13px] break-all text-slate-900">
            {link}
          </code>
          <Button icon={<Copy className="size-4" />} onClick={() => void navigator.clipboard?.writeText(link).then(() => setCopied(true))}>
            {copied ? "Copied" : "Copy"}
          </Button>
        </section>
      )}
      {workspace && (
        <table className="w-full text-left text-sm" aria-label="Members">
          <thead className="text-xs text-slate-500">
            <tr>
              <th className="pb-2 font-medium">Member</th>
              <th className="pb-2 font-medium">Role</th>
            </tr>
          </thead>
          <tbody>
            {workspace.members.map((m) => (
              <tr key={m.userId} className="border-t border-slate-100">
                <td className="py-2.5 pr-3 text-slate-900">{m.email ?? m.userId}</td>
                <td className="py-2.5 text-slate-600">{m.role.toLowerCase()}</td>
              </tr>
            ))}
            {workspace.invitations.map((i) => (
              <tr key={i.id} className="border-t border-slate-100">
                <td className="py-2.5 pr-3 text-slate-500">{i.email ?? "Someone with the link"} (invited)</td>
                <td className="py-2.5 text-slate-500">{i.role.toLowerCase()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The members of each workspace the user administers, and invitations by link. */
export function MembersPage() {
  return (
    <AdminPage
      title="Members"
      selectId="members-workspace"
      empty={{ icon: <Users className="size-7" />, title: "Only admins manage members", detail: "Ask an admin of your workspace." }}
    >
      {(workspaceId) => <WorkspaceMembers key={workspaceId} workspaceId={workspaceId} />}
    </AdminPage>
  );
}
