import { ArrowRight, UserPlus } from "lucide-react";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation } from "urql";
import { describeError } from "../../api/errors";
import { graphql } from "../../gql";
import { Button } from "../../ui/Button";
import { Logo } from "../../ui/Logo";
import { ErrorState } from "../../ui/States";
import { useTitle } from "../../ui/useTitle";

export const AcceptInvitationMutation = graphql(`
  mutation AcceptInvitation($token: String!) {
    acceptInvitation(token: $token) {
      id
      name
      role
    }
  }
`);

const ROLE_WORDS: Record<string, string> = {
  ADMIN: "an admin",
  EDITOR: "an editor",
  VIEWER: "a viewer",
};

/** The page an invitation link opens (`/invite?token=…`): signed in (the gate asks first),
 * the invitee joins the workspace with one click. */
export function InvitePage() {
  useTitle("Join a workspace");
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [{ data, error, fetching }, accept] = useMutation(AcceptInvitationMutation);
  const [tried, setTried] = useState(false);
  const joined = data?.acceptInvitation;

  return (
    <div className="flex min-h-full flex-col items-center justify-center gap-6 px-6 py-16">
      <Logo />
      <section aria-label="Invitation" className="w-full max-w-md space-y-4 rounded-2xl border border-slate-200 bg-white p-6 text-center shadow-sm">
        {!token ? (
          <ErrorState title="This link has no invitation" detail="Ask the admin who invited you for the whole link." />
        ) : joined ? (
          <>
            <h1 className="text-xl font-semibold text-slate-900">You joined {joined.name}</h1>
            <p className="text-sm text-slate-600">You are {ROLE_WORDS[joined.role] ?? joined.role.toLowerCase()} of this workspace.</p>
            <Link to="/" className="inline-flex items-center gap-1.5 text-sm font-medium text-brand-600 hover:underline">
              Open My Stacks <ArrowRight className="size-4" />
            </Link>
          </>
        ) : (
          <>
            <UserPlus className="mx-auto size-8 text-brand-600" aria-hidden />
            <h1 className="text-xl font-semibold text-slate-900">You're invited to a workspace</h1>
            <p className="text-sm text-slate-600">Join it to see its stacks, with the role the admin gave you.</p>
            {tried && error && (
              <p role="alert" className="text-sm text-red-600">
                {describeError(error, "join the workspace")}
              </p>
            )}
            <Button
              variant="primary"
              loading={fetching}
              onClick={() => {
                setTried(true);
                void accept({ token });
              }}
            >
              Join the workspace
            </Button>
          </>
        )}
      </section>
    </div>
  );
}
