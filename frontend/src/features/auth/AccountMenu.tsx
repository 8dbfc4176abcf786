import { KeyRound, LogOut, ScrollText, Users } from "lucide-react";
import { Link } from "react-router";
import { useQuery } from "urql";
import { signOut, useSession } from "../../api/session";
import { Button } from "../../ui/Button";
import { AdminWorkspacesQuery } from "../admin/operations";

const LINK = "inline-flex h-9 items-center gap-1.5 rounded-lg px-3 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900";

/** The header's links to API tokens, the audit log (admins) and, when signed in, who we are
 * and signing out. */
export function AccountMenu() {
  const { status, user } = useSession();
  const [{ data }] = useQuery({ query: AdminWorkspacesQuery });
  const admin = (data?.workspaces ?? []).some((w) => w.role === "ADMIN");
  return (
    <nav className="flex items-center gap-2" aria-label="Account">
      {admin && (
        <Link to="/members" className={LINK}>
          <Users className="size-4" aria-hidden />
          Members
        </Link>
      )}
      {admin && (
        <Link to="/audit" className={LINK}>
          <ScrollText className="size-4" aria-hidden />
          Audit
        </Link>
      )}
      <Link to="/tokens" className={LINK}>
        <KeyRound className="size-4" aria-hidden />
        API tokens
      </Link>
      {status === "signedIn" && (
        <>
          <span className="text-sm text-slate-500">{user?.email}</span>
          <Button variant="ghost" icon={<LogOut className="size-4" />} onClick={() => void signOut()}>
            Sign out
          </Button>
        </>
      )}
    </nav>
  );
}
