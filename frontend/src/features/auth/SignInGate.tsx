import { useEffect, type ReactNode } from "react";
import { startSession, useSession } from "../../api/session";
import { Spinner } from "../../ui/Spinner";
import { SignInPage } from "./SignInPage";

/** The app, once the server says who we are: on loopback at once, elsewhere after signing in. */
export function SignInGate({ children }: { children: ReactNode }) {
  const status = useSession((s) => s.status);
  useEffect(() => {
    void startSession().catch(() => useSession.setState({ status: "open" }));
  }, []);
  if (status === "checking") {
    return (
      <div className="flex h-full items-center justify-center text-slate-400">
        <Spinner className="size-6" label="Loading" />
      </div>
    );
  }
  return status === "signedOut" ? <SignInPage /> : <>{children}</>;
}
